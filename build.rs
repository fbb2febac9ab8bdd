//! Release builds on Linux link the functions a warm invocation runs next to
//! each other, ahead of the rest of the code (`link/hot-functions.ld`, made
//! by `make hot-functions`): each invocation then touches fewer pages of
//! code (docs/PERFORMANCE.md, "Levers kept"). Debug builds and other
//! systems link as usual.

fn main() {
    println!("cargo:rerun-if-changed=link/hot-functions.ld");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    if let (true, true, Ok(dir)) = (linux, release, std::env::var("CARGO_MANIFEST_DIR")) {
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{dir}/link/hot-functions.ld");
    }
}
