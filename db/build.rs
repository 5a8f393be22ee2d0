// `sqlx::migrate!` embeds the migrations at compile time; without this, a new migration file
// would not rebuild the crate and tests would run an older schema.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
