//! Preload links for the wasm chunks of the screen a page shows, so a first load fetches them
//! alongside the main bundle instead of after it has started.
//!
//! leptos_integration_utils 0.8.9 means to add these itself, but looks its list up after the
//! render's last await, where the reactive owner it needs may no longer be the current one: a
//! page got all, some or none of its links from it depending on when its database answers
//! came, each beside ours, and each with the page's CSP nonce as its `crossorigin` value.
//! [`take_over_preloads`] turns it off, so every page names each of its files exactly once.

use leptos::prelude::*;
use leptos_meta::Link;

/// Registers `<link rel="preload">` in the page's head for every chunk the lazy function
/// `split` (its name before the hash `#[lazy]` appends) needs. Without a split manifest (a
/// build without `--split`, or tests without a built site) it adds nothing.
pub fn preload(split: &str) {
    let Some(manifest) = use_context::<leptos::WasmSplitManifest>() else {
        return;
    };
    let Some(read) = manifest.0.try_read_value() else {
        return;
    };
    let (pkg_path, chunks, loader) = &*read;
    // The chunks' loader: the main bundle's JavaScript imports it, so without a link of its own
    // it is only asked for once that has arrived and been read.
    let _ = view! { <Link rel="modulepreload" href=format!("{pkg_path}/{loader}") /> }.to_html();
    for file in chunks_of(chunks, split) {
        let _ = view! {
            <Link
                rel="preload"
                href=format!("{pkg_path}/{file}.wasm")
                as_="fetch"
                type_="application/wasm"
                // The loader fetches chunks same-origin with default credentials: a preload
                // in another mode would be fetched twice.
                crossorigin="anonymous"
            />
        }
        .to_html();
    }
}

/// Gives this page's render a list of its own for the lazy functions it calls, which leptos
/// registers to preload and which nothing reads: the render's copy, read by
/// leptos_integration_utils, stays empty and adds no links of its own. [`preload`] adds them.
pub fn take_over_preloads() {
    provide_context(leptos::PrefetchLazyFn::default());
}

/// The files of the manifest entry `<split>_<digits>`.
fn chunks_of<'a>(
    chunks: &'a std::collections::HashMap<String, Vec<String>>,
    split: &str,
) -> impl Iterator<Item = &'a String> {
    let prefix = format!("{split}_");
    chunks
        .iter()
        .filter(move |(name, _)| {
            name.strip_prefix(&prefix)
                .is_some_and(|hash| !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_digit()))
        })
        .flat_map(|(_, files)| files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_is_found_by_its_name_and_nothing_else() {
        let chunks = std::collections::HashMap::from([
            ("show_admin_123".to_owned(), vec!["chunk_1.a".to_owned()]),
            (
                "show_admin_area_123".to_owned(),
                vec!["chunk_2.b".to_owned()],
            ),
            ("show_admin_".to_owned(), vec!["chunk_3.c".to_owned()]),
        ]);
        let found: Vec<_> = chunks_of(&chunks, "show_admin").collect();
        assert_eq!(found, ["chunk_1.a"]);
    }
}
