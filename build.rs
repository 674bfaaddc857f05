//! Checks that the system OpenBLAS is installed before the link step fails with an obscure
//! message. `openblas-src` (feature `system`) asks pkg-config and, when that fails, still emits
//! `-lopenblas`, so a missing library would otherwise surface as a linker error.
use std::path::Path;
use std::process::Command;

const APT_HINT: &str = "apt-get install -y libopenblas-dev pkg-config";

fn pkg_config_finds_openblas() -> bool {
    Command::new("pkg-config")
        .args(["--exists", "openblas"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn library_on_disk() -> bool {
    let dirs = [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
        "/usr/local/lib",
        "/opt/homebrew/opt/openblas/lib",
        "/usr/local/opt/openblas/lib",
    ];
    dirs.iter().any(|d| {
        ["libopenblas.so", "libopenblas.a", "libopenblas.dylib"]
            .iter()
            .any(|f| Path::new(d).join(f).exists())
    })
}

/// Feature `scalapack`: links Debian's `scalapack-openmpi` (its `-L` directories and the
/// library itself; MPI comes from rsmpi, BLAS/LAPACK from OpenBLAS).
fn link_scalapack() {
    const HINT: &str =
        "apt-get install -y libscalapack-openmpi-dev openmpi-bin libopenmpi-dev pkg-config";
    let out = Command::new("pkg-config")
        .args(["--libs", "scalapack-openmpi"])
        .output();
    let libs = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => {
            println!(
                "cargo::error=parla's feature `scalapack` links Debian's ScaLAPACK for Open MPI \
                 (pkg-config scalapack-openmpi), which is not installed. Install it with:    \
                 {HINT}"
            );
            return;
        }
    };
    for word in libs.split_whitespace() {
        if let Some(dir) = word.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
        } else if let Some(lib) = word.strip_prefix("-l") {
            if lib.starts_with("scalapack") {
                println!("cargo:rustc-link-lib=dylib={lib}");
            }
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("DOCS_RS").is_some() {
        return;
    }
    if std::env::var_os("CARGO_FEATURE_SCALAPACK").is_some() {
        link_scalapack();
    }
    if !pkg_config_finds_openblas() && !library_on_disk() {
        // `cargo::error` fails the build with this message and no backtrace.
        println!(
            "cargo::error=parla needs the system OpenBLAS (it links Debian's libopenblas through \
             openblas-src's `system` feature and downloads nothing). Install it with:    \
             {APT_HINT}    (as root, or prefixed with sudo), then build again."
        );
    }
}
