fn main() {
    // The app's single Tauri config lives at the top of the repository.
    if let Err(e) =
        tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
    {
        panic!("tauri build step failed: {e:#}");
    }
}
