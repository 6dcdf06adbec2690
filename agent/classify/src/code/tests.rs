//! Unit tests of the code analysis: each construct, each capability, harmless code.
#![allow(clippy::unwrap_used)]

use super::*;
use std::sync::LazyLock;

static ANALYZER: LazyLock<CodeAnalyzer> = LazyLock::new(|| CodeAnalyzer::builtin().unwrap());

fn caps(language: Language, code: &str) -> BTreeSet<Capability> {
    ANALYZER
        .analyze(language, code, None, &mut NoFiles)
        .capabilities()
}

fn py(code: &str) -> BTreeSet<Capability> {
    caps(Language::Python, code)
}

fn js(code: &str) -> BTreeSet<Capability> {
    caps(Language::Javascript, code)
}

#[test]
fn builtin_code_knowledge_loads_and_its_examples_hold() {
    CodeAnalyzer::builtin().unwrap();
}

/// `AIRLOCK_CODE='…' AIRLOCK_LANG=python cargo test … show_code -- --ignored --nocapture`
#[test]
#[ignore = "a tool for looking at what the analysis finds"]
fn show_code() {
    let code = std::env::var("AIRLOCK_CODE").unwrap_or_default();
    let language = match std::env::var("AIRLOCK_LANG").as_deref() {
        Ok("js") | Ok("javascript") => Language::Javascript,
        Ok("ts") | Ok("typescript") => Language::Typescript,
        _ => Language::Python,
    };
    let report = ANALYZER.analyze(language, &code, None, &mut NoFiles);
    for e in &report.effects {
        println!("{e:?}");
    }
    println!("literals: {:?}", report.literals);
}

use Capability::*;

fn set(caps: &[Capability]) -> BTreeSet<Capability> {
    caps.iter().copied().collect()
}

/// Each dynamic form, alone or around a harmless call: `dynamic`.
#[test]
fn python_dynamic_dispatch_is_dynamic() {
    for code in [
        "getattr(__import__('os'), 'system')('id')",
        "import os; getattr(os, 'sys' + 'tem')('id')",
        "__import__('os').system('id')",
        "exec('import os')",
        "eval('1+1')",
        "exec(compile('x = 1', 'f', 'exec'))",
        "import importlib; importlib.import_module('os')",
        "from importlib import import_module as im; im('os')",
        "globals()['__builtins__']",
        "locals()['x']",
        "vars()['x']",
        "import builtins; builtins.exec('x')",
        "import sys; sys.modules['os']",
        "print(().__class__.__mro__[1].__subclasses__())",
        "f = lambda: 0; f.__globals__['os']",
        "(x for x in []).gi_frame.f_builtins",
        "import pickle; pickle.loads(b'x')",
        "import runpy; runpy.run_path('x.py')",
        "import ctypes; ctypes.CDLL('libc.so.6').system(b'id')",
        "import operator; operator.methodcaller('system', 'id')",
        "import os; setattr(os, 'x', 1)",
        "import os as o\nm = [o]\nm[0].system('id')",
        "import os\ndef f(m): m.system('id')\nf(os)",
        "import os\nclass A:\n    m = os\nA.m.system('id')",
        "import numpy; numpy.load('x.npy', allow_pickle=True)",
        "from numpy import *\nsave('x', 1)",
        "import yaml; yaml.load(open('x'))",
        "exec 'print 1'",
        "def f(:\n  pass",
        "ｅｘｅｃ('id')",
        "import typing; typing.get_type_hints(f)",
        "import os; os.system = print",
        "import sys; sys.path.insert(0, 'x')",
        "breakpoint()",
        "undefined_function('x')",
    ] {
        assert!(py(code).contains(&Dynamic), "{code}: {:?}", py(code));
    }
}

#[test]
fn javascript_dynamic_dispatch_is_dynamic() {
    for code in [
        "eval('1')",
        "(0, eval)('1')",
        "new Function('return 1')()",
        "Function('return process')()",
        "const m = process.argv[2]; require(m)",
        "require(process.env.MOD)",
        "import(process.argv[2])",
        "const cp = require('child_process'); cp[process.argv[2]]('id')",
        "[].constructor.constructor('return 1')()",
        "({}).__proto__",
        "require('vm').runInThisContext('1')",
        "const {Worker} = require('worker_threads'); new Worker('x', {eval: true})",
        "globalThis.eval('1')",
        "global['ev' + 'al']('1')",
        "this.require('child_process').execSync(process.argv[2])",
        "(function () { return this })().process.binding('spawn_sync')",
        "process.binding('spawn_sync')",
        "process.mainModule.require('child_process')",
        "require('module').createRequire(__filename)('child_process')",
        "const r = require; r('child_' + process.argv[2])",
        "setTimeout('doSomething()', 10)",
        "\\u0065val('1')",
        "with (require('child_process')) { execSync('id') }",
        "import('data:text/javascript,console.log(1)')",
        "const x = require('left-pad'); x('a', 3)",
        "import pad from 'left-pad'; pad('a')",
        "require('fs').constructor",
        "function f( { return 1 }",
        "Reflect.get(process, 'bin' + 'ding')('x')",
        "const m = require('child_process'); module.exports = m",
        "var cp = require('child_process')",
        "Object.values(require('child_process'))[0]('id')",
        "require('child_process').execSync.call(null, process.argv[2])",
    ] {
        assert!(
            js(code).contains(&Dynamic) || js(code).contains(&Process),
            "{code}: {:?}",
            js(code)
        );
        assert!(!js(code).is_empty(), "{code}");
    }
}

/// Each capability is found, whatever the spelling.
#[test]
fn python_capabilities_are_found() {
    let cases: &[(&str, &[Capability])] = &[
        ("import os; os.system('rm -rf /')", &[Process]),
        ("import os as o; o.popen('ls').read()", &[Process]),
        ("from os import system; system('ls')", &[Process]),
        ("from os import *; system('ls')", &[Process]),
        (
            "import subprocess; subprocess.run(['ls', '-l'])",
            &[Process],
        ),
        (
            "import subprocess as s; s.Popen('ls', shell=True)",
            &[Process],
        ),
        (
            "from subprocess import check_output as co; co(['git', 'log'])",
            &[Process],
        ),
        ("import os; os.execvp('ls', ['ls'])", &[Process]),
        (
            "import asyncio; asyncio.create_subprocess_exec('ls', '-l')",
            &[Process],
        ),
        ("import pty; pty.spawn('/bin/sh')", &[Process]),
        (
            "import requests; requests.post('https://e.example', data='x')",
            &[Network],
        ),
        (
            "import urllib.request; urllib.request.urlopen('https://e.example')",
            &[Network],
        ),
        (
            "from urllib.request import urlopen; urlopen('https://e.example')",
            &[Network],
        ),
        (
            "import socket; socket.create_connection(('e.example', 80))",
            &[Network],
        ),
        (
            "import http.client; http.client.HTTPSConnection('e.example')",
            &[Network],
        ),
        ("open('/etc/passwd', 'a')", &[FileRead, FileWrite]),
        ("open('x', mode='wb')", &[FileRead, FileWrite]),
        (
            "with open('x', 'r+') as f: f.write('y')",
            &[FileRead, FileWrite],
        ),
        ("import shutil; shutil.rmtree('/')", &[FileDelete]),
        (
            "import shutil; shutil.move('a', 'b')",
            &[FileDelete, FileWrite],
        ),
        ("import os; os.unlink('x')", &[FileDelete]),
        ("import os; os.chmod('x', 0o777)", &[FileChmod]),
        (
            "from pathlib import Path; Path('x').unlink()",
            &[FileDelete],
        ),
        (
            "from pathlib import Path; Path.home().joinpath('.bashrc').write_text('x')",
            &[FileWrite],
        ),
        (
            "import pathlib; p = pathlib.Path('x'); p.rename('y')",
            &[FileDelete, FileWrite],
        ),
        ("import os; os.setuid(0)", &[Identity]),
        ("import os; os.chdir('/')", &[Chdir]),
        (
            "import os; os.environ['LD_PRELOAD'] = 'x.so'",
            &[Environment],
        ),
        ("import os; os.putenv('PATH', 'x')", &[Environment]),
        ("import tempfile; tempfile.mkdtemp()", &[]),
        (
            "import logging; logging.basicConfig(filename='app.log')",
            &[FileWrite],
        ),
        (
            "import logging; logging.basicConfig(level=logging.INFO)",
            &[],
        ),
        (
            "import sqlite3; sqlite3.connect('db.sqlite3')",
            &[FileWrite],
        ),
    ];
    for (code, expected) in cases {
        assert_eq!(py(code), set(expected), "{code}");
    }
}

#[test]
fn javascript_capabilities_are_found() {
    let cases: &[(&str, &[Capability])] = &[
        ("require('child_process').execSync('ls')", &[Process]),
        (
            "const cp = require('child_process'); cp.exec('ls')",
            &[Process],
        ),
        (
            "const {spawnSync} = require('child_process'); spawnSync('ls', ['-l'])",
            &[Process],
        ),
        (
            "import {execFile} from 'node:child_process'; execFile('ls', [])",
            &[Process],
        ),
        (
            "import * as cp from 'child_process'; cp.execSync('ls')",
            &[Process],
        ),
        (
            "import cp from 'child_process'; cp.execSync('ls')",
            &[Process],
        ),
        (
            "const cp = await import('child_process'); cp.execSync('ls')",
            &[Process],
        ),
        ("(0, require('child_process').execSync)('ls')", &[Process]),
        ("require('child_process')?.execSync?.('ls')", &[Process]),
        ("Bun.spawn(['ls'])", &[Process]),
        ("Bun.$`ls`", &[Process]),
        (
            "new Deno.Command('ls', {args: ['-l']}).outputSync()",
            &[Process],
        ),
        ("fetch('https://e.example')", &[Network]),
        ("require('https').get('https://e.example')", &[Network]),
        ("require('net').connect(80, 'e.example')", &[Network]),
        ("require('fs').writeFileSync('x', 'y')", &[FileWrite]),
        (
            "require('fs').promises.rm('x', {recursive: true})",
            &[FileDelete],
        ),
        (
            "import {rm} from 'fs/promises'; await rm('x')",
            &[FileDelete],
        ),
        ("require('fs').unlinkSync('x')", &[FileDelete]),
        ("require('fs').chmodSync('x', 0o755)", &[FileChmod]),
        ("require('fs').openSync('x', 'w')", &[FileRead, FileWrite]),
        (
            "const fs = require('fs'); fs.renameSync('a', 'b')",
            &[FileDelete, FileWrite],
        ),
        ("Deno.removeSync('x')", &[FileDelete]),
        ("await Bun.file('x').delete()", &[FileDelete]),
        ("process.chdir('/')", &[Chdir]),
        ("process.env.PATH = '/tmp'", &[Environment]),
        ("process.setuid(0)", &[Identity]),
        (
            "import x from 'https://e.example/mod.ts'",
            &[RemoteCode, Network],
        ),
        ("require('rimraf').sync('dist')", &[FileDelete]),
    ];
    for (code, expected) in cases {
        assert_eq!(js(code), set(expected), "{code}");
    }
}

/// Everyday code: nothing to report.
#[test]
fn harmless_code_has_no_capabilities() {
    for code in [
        "print(1)",
        "import json; print(json.dumps({}))",
        "import sys; print(sys.version)",
        "import json, sys; print(json.load(sys.stdin)['name'])",
        "import os; print(os.getcwd(), os.path.exists('x'), os.environ.get('HOME'))",
        "import re; print(re.sub('a', 'b', 'abc'))",
        "import math, statistics; print(math.sqrt(2), statistics.mean([1, 2]))",
        "import datetime; print(datetime.datetime.now().isoformat())",
        "from collections import Counter\nprint(Counter('abc').most_common(1))",
        "import hashlib; print(hashlib.sha256(b'x').hexdigest())",
        "import base64; print(base64.b64decode('aGk=').decode())",
        "import platform; print(platform.system(), platform.python_version())",
        "import subprocess\nprint(subprocess.PIPE)",
        "def f(x):\n    return x * 2\nprint([f(i) for i in range(3)])",
        "class A:\n    def __init__(self, x):\n        super().__init__()\n        self.x = x\nprint(A(1).x)",
        "if __name__ == '__main__':\n    print('hi')",
        "import argparse\np = argparse.ArgumentParser()\np.add_argument('--x')\nprint(p.parse_args([]))",
        "x = 'rm -rf /'\nprint(x.replace('rm', 'ls'))",
        "try:\n    import yaml\nexcept ImportError:\n    yaml = None",
        "import typing\nT = typing.TypeVar('T')\ndef f(x: T) -> T:\n    return x",
        "print(f'{1 + 1} items')",
        "import dataclasses\n@dataclasses.dataclass\nclass P:\n    x: int = 0\nprint(P())",
    ] {
        assert_eq!(py(code), set(&[]), "{code}");
    }
    for code in [
        "console.log(1)",
        "console.log(JSON.stringify({a: [1, 2]}))",
        "const path = require('path'); console.log(path.join('a', 'b'))",
        "const os = require('os'); console.log(os.platform(), os.cpus().length)",
        "console.log(process.versions.node, process.argv.length)",
        "const xs = [1, 2, 3].map(x => x * 2).filter(Boolean); console.log(xs)",
        "class A { constructor(x) { this.x = x } get y() { return this.x } }\nconsole.log(new A(1).y)",
        "function f(a, {b = 2} = {}) { return a + b }\nconsole.log(f(1))",
        "const m = new Map(); m.set('a', 1); m.delete('a'); console.log(m.size)",
        "console.log('rm -rf /'.replace('rm', 'ls'))",
        "module.exports = { add: (a, b) => a + b }",
        "exports.add = (a, b) => a + b",
        "const { createHash } = require('crypto'); console.log(createHash('sha256').update('x').digest('hex'))",
        "setTimeout(() => console.log('done'), 10)",
        "async function main() { await Promise.all([1, 2]) }\nmain()",
        "let x = 1; x = 2; console.log(x)",
        "console.log(`value: ${1 + 1}`)",
    ] {
        assert_eq!(js(code), set(&[]), "{code}");
    }
    assert_eq!(
        caps(
            Language::Typescript,
            "interface P { x: number }\nconst p: P = { x: 1 };\nfunction f<T>(v: T): T { return v }\nconsole.log(f(p).x as number)"
        ),
        set(&[])
    );
}

/// `cargo test … time_analysis -- --ignored --nocapture`: rough cost of reading code.
#[test]
#[ignore = "a measurement, not a check"]
fn time_analysis() {
    let started = std::time::Instant::now();
    let fresh = CodeAnalyzer::builtin().unwrap();
    println!("build with examples: {:?}", started.elapsed());
    for (language, code) in [
        (
            Language::Python,
            "import json, sys; print(json.load(sys.stdin)['name'])",
        ),
        (
            Language::Python,
            "import subprocess; subprocess.run('cargo test', shell=True)",
        ),
        (
            Language::Javascript,
            "console.log(require('./package.json').version)",
        ),
    ] {
        let n = 200;
        let started = std::time::Instant::now();
        for _ in 0..n {
            fresh.analyze(language, code, None, &mut NoFiles);
        }
        println!("{code}: {:?} each", started.elapsed() / n);
    }
}

/// A file as large as the reader accepts parses within the step budget, and the same code is
/// always decided the same way (the budget counts parser steps, not time).
#[test]
fn large_files_parse_within_the_budget() {
    let mut py_code = String::new();
    let mut js_code = String::new();
    let mut i = 0;
    while py_code.len() < 250 * 1024 {
        py_code.push_str(&format!(
            "def f{i}(a, b=[1, 2, {{'k': (3, 4)}}]):\n    return sorted([x * 2 for x in a if x]) + [b, 'v{i}']\n"
        ));
        js_code.push_str(&format!(
            "function f{i}(a, {{b = [1, 2]}} = {{}}) {{ return a.map(x => x * 2).concat(b, `v{i}`) }}\n"
        ));
        i += 1;
    }
    assert_eq!(py(&py_code), set(&[]));
    assert_eq!(js(&js_code), set(&[]));
}
