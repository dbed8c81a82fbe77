//! Writes policies/aws/cloudwatch/examples/<RULE-ID>/{pass,fail}/, one example per bundled rule
//! (tests/support/bundled.rs): `cargo run --example make-rule-examples`, from anywhere in the
//! checkout. The directory is replaced, so a removed rule leaves no example behind. Run it after
//! changing a reference pattern (`custom.references`) or a `weakened` pattern of a rule's tests;
//! `tests/it/examples.rs` fails while the committed files differ from what it writes.
#[path = "../tests/support/bundled.rs"]
mod bundled;
#[path = "../tests/support/snapshot.rs"]
mod snapshot;

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join(bundled::EXAMPLES_DIR);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    bundled::write(root, &bundled::rule_examples())?;
    println!("wrote {}", bundled::EXAMPLES_DIR);
    Ok(())
}
