//! `cineflow component new --hook H [--name N] [DIR]`: writes a starter crate for a hook. The
//! files are templates kept in `host/templates/component-new/` (compiled into the binary):
//! `common/` for every hook, `<hook>/` for its glue (`src/lib.rs`), its decision with unit
//! tests (`src/logic.rs`) and the answer it gives to its sample input (`expect.json`, which
//! becomes the first test case). The WIT files are the host's own `wit/`, and the sample input
//! is the hook's first fixture, so a new crate always matches the host that wrote it.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::cli::NewArgs;
use crate::component_run::{Finished, exit};
use crate::plugins::{Hook, fixtures};

/// The WIT package, as the host itself is built against it.
const WIT: [(&str, &str); 5] = [
    ("types.wit", include_str!("../../wit/types.wit")),
    (
        "booking-rules.wit",
        include_str!("../../wit/booking-rules.wit"),
    ),
    ("pricing.wit", include_str!("../../wit/pricing.wit")),
    (
        "notify-templates.wit",
        include_str!("../../wit/notify-templates.wit"),
    ),
    ("seat-picker.wit", include_str!("../../wit/seat-picker.wit")),
];

const CARGO_TOML: &str = include_str!("../templates/component-new/common/Cargo.toml");
const README: &str = include_str!("../templates/component-new/common/README.md");
const GITIGNORE: &str = include_str!("../templates/component-new/common/gitignore");

/// A hook's own templates: `src/lib.rs`, `src/logic.rs` and the answer to its sample input.
struct HookTemplates {
    lib: &'static str,
    logic: &'static str,
    expect: &'static str,
}

fn templates(hook: Hook) -> HookTemplates {
    macro_rules! of {
        ($dir:literal) => {
            HookTemplates {
                lib: include_str!(concat!("../templates/component-new/", $dir, "/src/lib.rs")),
                logic: include_str!(concat!(
                    "../templates/component-new/",
                    $dir,
                    "/src/logic.rs"
                )),
                expect: include_str!(concat!("../templates/component-new/", $dir, "/expect.json")),
            }
        };
    }
    match hook {
        Hook::BookingRules => of!("booking-rules"),
        Hook::Pricing => of!("pricing"),
        Hook::NotifyTemplates => of!("notify-templates"),
        Hook::SeatPicker => of!("seat-picker"),
    }
}

/// The files of a new crate for `hook` named `name`, as (relative path, contents).
pub fn files(hook: Hook, name: &str) -> Result<Vec<(PathBuf, String)>, String> {
    let t = templates(hook);
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{hook}}", hook.as_str())
    };
    let fixture = fixtures::of(hook)?
        .into_iter()
        .next()
        .ok_or_else(|| format!("the {hook} hook has no fixtures"))?;
    let expect: Value = serde_json::from_str(t.expect)
        .map_err(|e| format!("the {hook} template's expect.json is malformed: {e}"))?;
    let cases = json!({ "cases": [{
        "name": fixture.name,
        "input": fixture.input,
        "expect": expect,
    }]});
    let pretty = |v: &Value| serde_json::to_string_pretty(v).map(|s| s + "\n");
    let sample = pretty(&fixture.input).map_err(|e| e.to_string())?;
    let cases = pretty(&cases).map_err(|e| e.to_string())?;
    let mut out = vec![
        (PathBuf::from("Cargo.toml"), fill(CARGO_TOML)),
        (PathBuf::from("README.md"), fill(README)),
        (PathBuf::from(".gitignore"), GITIGNORE.to_owned()),
        (PathBuf::from("src/lib.rs"), fill(t.lib)),
        (PathBuf::from("src/logic.rs"), fill(t.logic)),
        (PathBuf::from("sample-input.json"), sample),
        (PathBuf::from("cases.json"), cases),
    ];
    for (file, text) in WIT {
        out.push((Path::new("wit").join(file), text.to_owned()));
    }
    Ok(out)
}

/// Whether `name` is a crate name this writes: a lowercase letter, then lowercase letters,
/// digits and single `-`, at most 64 characters.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// Writes the crate; the directory must not exist or be empty.
pub fn write(args: &NewArgs) -> Finished {
    let from_dir = args
        .dir
        .as_deref()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .map(str::to_owned);
    let name = args
        .name
        .clone()
        .or(from_dir)
        .unwrap_or_else(|| format!("my-{}", args.hook));
    if !valid_name(&name) {
        return usage(format!(
            "{name:?} is not a crate name for a component: lowercase letters, digits and `-`, starting with a letter (pass --name)"
        ));
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(&name));
    match std::fs::read_dir(&dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return usage(format!(
                    "{} exists and is not empty; pick a new directory",
                    dir.display()
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return usage(format!("{}: {e}", dir.display())),
    }
    let files = match files(args.hook, &name) {
        Ok(files) => files,
        Err(e) => return internal(e),
    };
    for (path, text) in &files {
        let path = dir.join(path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        if let Err(e) = written {
            return internal(format!("writing {}: {e}", path.display()));
        }
    }
    let krate = name.replace('-', "_");
    let wasm = format!("target/wasm32-wasip2/wasm/{krate}.wasm");
    Finished {
        code: exit::OK,
        stdout: format!(
            "wrote a {hook} component crate `{name}` in {dir}\n\n  cd {dir}\n  cargo test\n  cargo build --target wasm32-wasip2 --profile wasm\n  cineflow component run --hook {hook} --wasm {wasm} --input sample-input.json\n  cineflow component test --hook {hook} --wasm {wasm} --cases cases.json",
            hook = args.hook,
            dir = dir.display(),
        ),
        stderr: String::new(),
    }
}

fn usage(message: String) -> Finished {
    Finished {
        code: exit::USAGE,
        stdout: String::new(),
        stderr: format!("error: {message}"),
    }
}

fn internal(message: String) -> Finished {
    Finished {
        code: exit::INTERNAL,
        stdout: String::new(),
        stderr: format!("error: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hook_gets_a_crate_with_its_world_and_no_placeholder_left() {
        for hook in Hook::ALL {
            let files = files(hook, "my-crate").expect("files");
            let lib = files
                .iter()
                .find(|(p, _)| p == Path::new("src/lib.rs"))
                .map(|(_, t)| t)
                .expect("lib.rs");
            assert!(lib.contains(&format!("world: \"{hook}\"")), "{hook}: {lib}");
            for (path, text) in &files {
                assert!(
                    !text.contains("{{"),
                    "{hook}: {} has a placeholder",
                    path.display()
                );
            }
            let cases = files
                .iter()
                .find(|(p, _)| p == Path::new("cases.json"))
                .map(|(_, t)| t)
                .expect("cases.json");
            let cases: crate::plugins::cases::TestCases =
                serde_json::from_str(cases).expect("cases parse");
            crate::plugins::cases::validate(hook, &cases, &crate::plugins::Limits::default())
                .expect("the starter cases are valid");
        }
    }

    #[test]
    fn crate_names_are_checked() {
        assert!(valid_name("matinee-pricing"));
        assert!(valid_name("p2"));
        for bad in ["", "Pricing", "-x", "x-", "a--b", "a_b", "2x", "a b"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
