//! Docs are code: every path, script, example, bench, test target and `rill` command that
//! README.md, ARCHITECTURE.md, BENCHMARKS.md, wasm/README.md, the scripts and `.ci/run` name
//! must exist (issue 12: a deleted example once broke the README's main command). The code
//! map in ARCHITECTURE.md is checked file by file, so it cannot drift from the tree.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use rill_tests::{repo_root, rill_binary};

/// Top-level folders and files a path in the docs may start with.
const ROOTS: &[&str] =
    &[".ci/", "core/", "broker/", "wasm/", "dashboard/", "tests/", "www/", "scripts/", "vendor/", "docs/"];
/// Build outputs and installed tools: named in the docs, made by the scripts, never committed.
const GENERATED: &[&str] = &["www/pkg", "target/", ".tools", ".venv", "node_modules"];

fn documents() -> Vec<PathBuf> {
    let root = repo_root();
    let mut docs: Vec<PathBuf> =
        ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md", "wasm/README.md", "vendor/README.md", ".ci/run"]
            .iter()
            .map(|name| root.join(name))
            .collect();
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(root.join("scripts"))
        .expect("scripts/ exists")
        .map(|entry| entry.expect("readable").path())
        .filter(|path| path.extension().is_some_and(|e| e == "sh"))
        .collect();
    scripts.sort();
    docs.extend(scripts);
    for doc in &docs {
        assert!(doc.exists(), "{} is missing", doc.display());
    }
    docs
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

/// Path-like words that start with one of [`ROOTS`] (after any non-word character).
fn repo_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (index, &(at, c)) in chars.iter().enumerate() {
        let after_word = index > 0 && {
            let previous = chars[index - 1].1;
            previous.is_ascii_alphanumeric() || matches!(previous, '_' | '.' | '-')
        };
        if after_word || !(c.is_ascii_alphanumeric() || c == '.') {
            continue;
        }
        let rest = &text[at..];
        if !ROOTS.iter().any(|root| rest.starts_with(root)) {
            continue;
        }
        let end = rest.find(|c: char| !is_path_char(c)).unwrap_or(rest.len());
        let word = rest[..end].trim_end_matches(['.', ',', ':', ';', '-']);
        // A file has an extension, a folder ends with '/': `wasm/native` (a ratio) is neither.
        let last = word.rsplit('/').next().unwrap_or_default();
        if !(word.ends_with('/') || last.contains('.') || word == ".ci/run") {
            continue;
        }
        // Skip the middle of a longer path (`x/core/…`) and glob-like words.
        if index > 0 && chars[index - 1].1 == '/' && !text[..at].ends_with("$ROOT/") && !text[..at].ends_with("\"/") {
            continue;
        }
        found.push(word.to_owned());
    }
    found
}

/// The words after `flag` (`--example tour` → `tour`).
fn flag_values(text: &str, flag: &str) -> Vec<String> {
    let words: Vec<&str> = text.split(|c: char| c.is_whitespace() || c == '`').collect();
    words
        .windows(2)
        .filter(|pair| pair[0] == flag)
        .map(|pair| pair[1].trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).to_owned())
        .filter(|value| !value.is_empty() && !value.starts_with('-'))
        .collect()
}

/// Package name → its folder, for every workspace member.
fn packages() -> Vec<(String, PathBuf)> {
    let root = repo_root();
    ["core", "broker", "wasm", "dashboard", "tests"]
        .iter()
        .map(|dir| {
            let manifest = std::fs::read_to_string(root.join(dir).join("Cargo.toml")).expect("member manifest");
            let name = manifest
                .lines()
                .find_map(|line| line.strip_prefix("name = \""))
                .and_then(|rest| rest.strip_suffix('"'))
                .expect("package name")
                .to_owned();
            (name, root.join(dir))
        })
        .collect()
}

fn generated(path: &str) -> bool {
    GENERATED.iter().any(|g| path.starts_with(g) || path.contains(&format!("/{g}")))
}

/// ARCHITECTURE.md's code map: under each "### `dir/` — package" heading, the first cell of
/// every table row (`storage/mod.rs`) must be a file of that package's `src/`.
fn code_map_entries(architecture: &str) -> Vec<PathBuf> {
    let root = repo_root();
    let mut package: Option<PathBuf> = None;
    let mut entries = Vec::new();
    for line in architecture.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            package = heading
                .strip_prefix('`')
                .and_then(|rest| rest.split_once("/`"))
                .filter(|_| heading.contains("package"))
                .map(|(dir, _)| root.join(dir));
            continue;
        }
        if line.starts_with("## ") {
            package = None;
        }
        let (Some(dir), Some(cell)) = (&package, line.strip_prefix("| `")) else { continue };
        let Some((name, _)) = cell.split_once('`') else { continue };
        if name.ends_with(".rs") {
            entries.push(dir.join("src").join(name));
        }
    }
    entries
}

#[test]
fn every_path_the_docs_name_exists() {
    let root = repo_root();
    let mut missing = BTreeSet::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("readable");
        let name = doc.strip_prefix(&root).unwrap_or(&doc).display().to_string();
        for path in repo_paths(&text) {
            if generated(&path) {
                continue;
            }
            checked += 1;
            // A path in a package's section may be relative to that package (`tests/broker.rs`)
            // or to its sources (`broker/fetch.rs` in core's code map).
            let candidates = [
                root.join(&path),
                root.join("tests").join(&path),
                root.join("core/src").join(&path),
                root.join("broker/src").join(&path),
                root.join("dashboard/src").join(&path),
            ];
            if !candidates.iter().any(|candidate| candidate.exists()) {
                missing.insert(format!("{name}: {path}"));
            }
        }
        for script in flag_values(&text, "./scripts").into_iter().chain(script_calls(&text)) {
            checked += 1;
            if !root.join("scripts").join(&script).exists() {
                missing.insert(format!("{name}: ./scripts/{script}"));
            }
        }
    }
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("readable");
    let code_map = code_map_entries(&architecture);
    assert!(code_map.len() > 30, "the code map lists the modules: {code_map:?}");
    for file in code_map {
        checked += 1;
        if !file.exists() {
            missing
                .insert(format!("ARCHITECTURE.md code map: {}", file.strip_prefix(&root).unwrap_or(&file).display()));
        }
    }
    assert!(checked > 50, "the docs name many paths; the scanner found {checked}");
    assert!(
        missing.is_empty(),
        "paths named in the docs that do not exist:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// `./scripts/run.sh` style mentions.
fn script_calls(text: &str) -> Vec<String> {
    text.match_indices("./scripts/")
        .map(|(at, _)| {
            let rest = &text[at + "./scripts/".len()..];
            let end = rest.find(|c: char| !is_path_char(c)).unwrap_or(rest.len());
            rest[..end].trim_end_matches(['.', ',']).to_owned()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

#[test]
fn every_cargo_target_the_docs_name_exists() {
    let root = repo_root();
    let packages = packages();
    let mut missing = BTreeSet::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("readable");
        let name = doc.strip_prefix(&root).unwrap_or(&doc).display().to_string();
        for (flag, folder) in
            [("--example", "examples"), ("--bench", "benches"), ("--test", "tests"), ("--bin", "src/bin")]
        {
            for target in flag_values(&text, flag) {
                checked += 1;
                let file = format!("{target}.rs");
                // A binary may also be declared in Cargo.toml (`[[bin]] name = "rill"`).
                let declared = |dir: &std::path::PathBuf| {
                    flag == "--bin"
                        && std::fs::read_to_string(dir.join("Cargo.toml"))
                            .is_ok_and(|manifest| manifest.contains(&format!("name = \"{target}\"")))
                };
                let exists = packages.iter().any(|(_, dir)| dir.join(folder).join(&file).exists() || declared(dir));
                if !exists {
                    missing.insert(format!("{name}: {flag} {target} (no */{folder}/{file})"));
                }
            }
        }
        let cargo_lines: String = text.lines().filter(|line| line.contains("cargo")).collect::<Vec<_>>().join("\n");
        for package in flag_values(&cargo_lines, "-p") {
            checked += 1;
            if !packages.iter().any(|(known, _)| *known == package) {
                missing.insert(format!("{name}: -p {package} (no such workspace package)"));
            }
        }
    }
    assert!(checked >= 10, "the docs name cargo targets; the scanner found {checked}");
    assert!(
        missing.is_empty(),
        "cargo targets named in the docs that do not exist:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// `rill <command> [<subcommand>]` as written in the docs' code blocks.
fn rill_commands(text: &str) -> BTreeSet<Vec<String>> {
    let mut commands = BTreeSet::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        for (index, word) in words.iter().enumerate() {
            if !(*word == "rill" || word.ends_with("/rill")) {
                continue;
            }
            let command: Vec<String> = words[index + 1..]
                .iter()
                .take_while(|w| {
                    w.starts_with(|c: char| c.is_ascii_lowercase())
                        && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                })
                .take(2)
                .map(|w| (*w).to_owned())
                .collect();
            if !command.is_empty() {
                commands.insert(command);
            }
        }
    }
    commands
}

#[test]
fn every_rill_command_the_docs_show_exists() {
    let root = repo_root();
    let mut commands = BTreeSet::new();
    for doc in ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md"] {
        commands.extend(rill_commands(&std::fs::read_to_string(root.join(doc)).expect("readable")));
    }
    assert!(commands.len() >= 4, "README shows rill commands: {commands:?}");
    let rill = rill_binary();
    let mut failures = Vec::new();
    for command in &commands {
        let output = Command::new(&rill).args(command).arg("--help").output().expect("run rill");
        if !output.status.success() {
            failures.push(format!(
                "rill {} --help: {}",
                command.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
    }
    assert!(failures.is_empty(), "commands the docs show that rill does not have:\n{}", failures.join("\n"));
}

#[test]
fn the_scanner_finds_what_it_should() {
    let text = "see `core/examples/tour.rs`, \"$ROOT/scripts/setup.sh\", tests/browser/ and target/x; log.dirs/core/x wasm/native";
    assert_eq!(repo_paths(text), vec!["core/examples/tour.rs", "scripts/setup.sh", "tests/browser/"]);
    assert_eq!(flag_values("cargo run -p rill-core --example sweep -- --seeds 1", "--example"), vec!["sweep"]);
    assert_eq!(script_calls("run `./scripts/run.sh --smoke`."), vec!["run.sh"]);
    let commands =
        rill_commands("```sh\ntarget/release/rill topics create --topic x\nrill broker --set a=b\n```\nrill ignored");
    assert_eq!(
        commands.into_iter().collect::<Vec<_>>(),
        vec![vec!["broker".to_owned()], vec!["topics".to_owned(), "create".to_owned()]]
    );
    assert!(Path::new(&repo_root()).join("ARCHITECTURE.md").exists());
}
