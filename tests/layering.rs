//! src/lib.rs declares the modules in layers and says each uses only those
//! declared before it: every `crate::` path in `src/` is read here and
//! held to that, so the description stays true of the code.

use std::path::{Path, PathBuf};

/// The top-level modules, in the order src/lib.rs declares them.
fn layers(lib: &str) -> Vec<String> {
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .filter_map(|l| l.strip_suffix(';'))
        .map(str::to_owned)
        .collect()
}

/// The `.rs` files of a top-level module: `src/NAME.rs` and everything
/// under `src/NAME/`.
fn files_of(src: &Path, module: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let single = src.join(format!("{module}.rs"));
    if single.is_file() {
        files.push(single);
    }
    let mut folders = vec![src.join(module)];
    while let Some(dir) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The top-level modules a line of code names through `crate::` (a
/// `crate::a::b` path, or each name of a `crate::{a, b::c}` group);
/// comments do not count.
fn used(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            let mut depth = 0;
            let mut start = true;
            for c in inner.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_alphanumeric() || c == '_') => {
                        out.push(String::new());
                        start = false;
                        if let Some(last) = out.last_mut() {
                            last.push(c);
                        }
                    }
                    c if !start && depth == 0 && (c.is_alphanumeric() || c == '_') => {
                        if let Some(last) = out.last_mut() {
                            if !last.contains(':') {
                                last.push(c);
                            }
                        }
                    }
                    ':' if depth == 0 => {
                        if let Some(last) = out.last_mut() {
                            last.push(':');
                        }
                    }
                    _ => {}
                }
            }
            for name in &mut out {
                *name = name.trim_end_matches(':').to_owned();
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

#[test]
fn reading_crate_paths_finds_every_module_named() {
    assert_eq!(used("use crate::site::model::Site;"), ["site"]);
    assert_eq!(
        used("use crate::{mask::Masker, site::{file, load}};"),
        ["mask", "site"]
    );
    assert_eq!(
        used("let x = crate::printable::printable(y); // crate::output"),
        ["printable"]
    );
}

#[test]
fn no_module_uses_one_declared_after_it_in_lib_rs() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let order = layers(&lib);
    assert!(
        order.len() >= 10 && order.iter().any(|m| m == "site"),
        "src/lib.rs lists no layers: {order:?}"
    );
    let rank = |m: &str| order.iter().position(|o| o == m);
    let mut wrong = Vec::new();
    for (i, module) in order.iter().enumerate() {
        let files = files_of(&src, module);
        assert!(!files.is_empty(), "module {module} has no file under src/");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a source file");
            for (n, line) in text.lines().enumerate() {
                for name in used(line) {
                    if rank(&name).is_some_and(|r| r > i) {
                        wrong.push(format!(
                            "{}:{}: {module} uses {name}, a later layer",
                            file.strip_prefix(&src).unwrap_or(&file).display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "src/lib.rs's layers do not hold:\n{}",
        wrong.join("\n")
    );
}
