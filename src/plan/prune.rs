//! The prune step: removes from the environment what nothing needs at run time.

use super::options::{Prune, PruneProfile};

/// Files no program loads at run time: package metadata, headers, static libraries, byte-code
/// caches, pip and Python's bundled installers and IDE, sanitizer runtimes, and command-line
/// tools that only build or inspect things (linker, sqlite3, openssl).
const STANDARD: &str = r#"rm -rf conda-meta include share/man share/doc share/info share/gtk-doc
find . -type f \( -name '*.a' -o -name '*.la' -o -name '*.pyc' -o -name '*.pyo' \) -exec rm -f {} +
find . -depth -type d -name __pycache__ -exec rm -rf {} +
rm -rf lib/python3*/site-packages/pip lib/python3*/site-packages/pip-*.dist-info
rm -rf lib/python3*/idlelib lib/python3*/ensurepip
rm -f bin/pip bin/pip3 bin/pip3.* bin/idle3 bin/idle3.*
rm -f lib/libasan.so* lib/libtsan.so* lib/liblsan.so* lib/libubsan.so* lib/libhwasan.so*
rm -f bin/*-conda-linux-gnu-ld bin/*-conda-linux-gnu-ld.* bin/sqlite3 bin/openssl
"#;

/// Also removes the terminal database, Python's test suites and tkinter, and
/// `libpython*.so*` when no other file in the environment names it.
const AGGRESSIVE: &str = r#"rm -rf share/terminfo lib/python3*/test lib/python3*/tkinter lib/python3*/turtledemo
for lib in lib/libpython3*.so*; do
  [ -e "$lib" ] || continue
  name=${lib##*/}
  # grep exits 1 when nothing matches and 2 on an error; an error stops the script, so a
  # library is never removed because the search failed.
  users=$(grep -rlF "${name%%.so*}.so" bin lib || [ $? -eq 1 ])
  others=$(printf '%s\n' "$users" | grep -v '/libpython3[^/]*[.]so[^/]*$' || true)
  [ -n "$others" ] || rm -f "$lib"
done
"#;

/// Archive of the kept paths while the profile runs.
const KEEP_ARCHIVE: &str = "/tmp/conda-frontend-keep.tar";

/// Returns the shell script of the prune step, or `None` when it removes nothing. Patterns
/// are written unquoted so the shell expands them; the options check that they contain no
/// character the shell would treat specially besides the wildcards.
pub fn script(prune: &Prune) -> Option<String> {
    if prune.profile == PruneProfile::None && prune.remove.is_empty() {
        return None;
    }
    let mut script = String::from("set -eu\ncd /env\n");
    if !prune.keep.is_empty() {
        let patterns = prune.keep.join(" ");
        script.push_str(&format!(
            "set --\nfor path in {patterns}; do if [ -e \"$path\" ] || [ -L \"$path\" ]; then set -- \"$@\" \"$path\"; fi; done\n\
             if [ $# -gt 0 ]; then tar -cf {KEEP_ARCHIVE} \"$@\"; fi\n"
        ));
    }
    match prune.profile {
        PruneProfile::None => {}
        PruneProfile::Standard => script.push_str(STANDARD),
        PruneProfile::Aggressive => script.push_str(&format!("{STANDARD}{AGGRESSIVE}")),
    }
    if !prune.remove.is_empty() {
        script.push_str(&format!("rm -rf {}\n", prune.remove.join(" ")));
    }
    if !prune.keep.is_empty() {
        script.push_str(&format!(
            "if [ -f {KEEP_ARCHIVE} ]; then tar -xpf {KEEP_ARCHIVE}; rm -f {KEEP_ARCHIVE}; fi\n"
        ));
    }
    Some(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prune(profile: PruneProfile, keep: &[&str], remove: &[&str]) -> Prune {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        Prune {
            profile,
            keep: owned(keep),
            remove: owned(remove),
        }
    }

    #[test]
    fn none_without_patterns_is_no_step() {
        assert_eq!(script(&prune(PruneProfile::None, &[], &[])), None);
    }

    #[test]
    fn keep_wraps_the_profile() {
        let text = script(&prune(
            PruneProfile::Standard,
            &["include/keep.h"],
            &["share/locale"],
        ))
        .unwrap();
        let saved = text.find("tar -cf").unwrap();
        let profile = text.find("rm -rf conda-meta").unwrap();
        let removed = text.find("rm -rf share/locale").unwrap();
        let restored = text.find("tar -xpf").unwrap();
        assert!(
            saved < profile && profile < removed && removed < restored,
            "{text}"
        );
    }

    #[test]
    fn keep_and_remove_run_in_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path();
        for file in [
            "include/keep.h",
            "include/drop.h",
            "share/locale/x.mo",
            "bin/tool",
            "lib/libx.a",
        ] {
            let path = env.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, file).unwrap();
        }
        let text = script(&prune(
            PruneProfile::Standard,
            &["include/keep.*"],
            &["share/locale"],
        ))
        .unwrap();
        let archive = dir.path().join("keep.tar");
        let text = text
            .replace(KEEP_ARCHIVE, archive.to_str().unwrap())
            .replace("cd /env", &format!("cd {}", env.display()));
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(&text)
            .status()
            .unwrap();
        assert!(status.success());
        assert!(env.join("include/keep.h").exists(), "kept file removed");
        assert!(!env.join("include/drop.h").exists(), "include/ not pruned");
        assert!(!env.join("share/locale").exists(), "remove pattern ignored");
        assert!(!env.join("lib/libx.a").exists(), "static library kept");
        assert!(env.join("bin/tool").exists(), "a program was removed");
    }
}
