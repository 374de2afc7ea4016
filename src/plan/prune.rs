//! The prune step: removes from the environment what nothing needs at run time.

use super::options::PruneProfile;

/// Files no program loads at run time: package metadata, headers, static libraries, byte-code
/// caches, pip and Python's bundled installers and IDE, sanitizer runtimes, and command-line
/// tools that only build or inspect things (linker, sqlite3, openssl).
const STANDARD: &str = r#"set -eu
cd /env
rm -rf conda-meta include share/man share/doc share/info share/gtk-doc
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

/// Returns the shell script of a profile, or `None` when nothing is removed.
pub fn script(profile: PruneProfile) -> Option<String> {
    match profile {
        PruneProfile::None => None,
        PruneProfile::Standard => Some(STANDARD.to_owned()),
        PruneProfile::Aggressive => Some(format!("{STANDARD}{AGGRESSIVE}")),
    }
}
