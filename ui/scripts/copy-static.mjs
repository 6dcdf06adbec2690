// Copies the static files (HTML, CSS) next to the compiled scripts in dist/.
import { cpSync, mkdirSync } from "node:fs";
mkdirSync("dist", { recursive: true });
cpSync("static", "dist", { recursive: true });
