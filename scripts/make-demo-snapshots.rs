//! Writes snapshots/, the demo organization (tests/support/bundled.rs says what each account
//! shows): `cargo run --example make-demo-snapshots`, from anywhere in the checkout. Run it after
//! changing a reference pattern (`custom.references`) or the builders; `tests/it/examples.rs` fails
//! while the committed files differ from what it writes.
#[path = "../tests/support/bundled.rs"]
mod bundled;
#[path = "../tests/support/snapshot.rs"]
mod snapshot;

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    bundled::write(root, &bundled::demo_snapshots())?;
    println!("wrote {}", bundled::DEMO_DIR);
    Ok(())
}
