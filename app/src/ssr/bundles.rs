//! Which browser bundle a page loads. The public site (the base domain: its home page,
//! registration, finding a workspace) has a bundle of its own, built by `./dev` from
//! `frontend/public` with the app's `public-site` feature: a visitor registering downloads none
//! of the workspaces' screens, and its pages never hydrate with a bundle that cannot show them.
//! Every other site loads cargo-leptos's bundle through leptos's `HydrationScripts`.

use std::path::Path;
use std::sync::OnceLock;

use leptos::prelude::*;

/// The build's file list, beside the bundle in the site's package directory.
const MANIFEST: &str = "public-bundle.json";

/// The public bundle's file names (hashed by content, so served as immutable).
#[derive(Debug, PartialEq, Eq, serde::Deserialize)]
struct PublicBundle {
    js: String,
    wasm: String,
}

impl PublicBundle {
    /// Read from the manifest's text; `None` unless both names are plain file names, since they
    /// are written into the page's script.
    fn parse(text: &str) -> Option<Self> {
        let bundle: Self = serde_json::from_str(text).ok()?;
        let plain = |name: &str, extension: &str| {
            name.ends_with(extension)
                && !name.starts_with('.')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        };
        (plain(&bundle.js, ".js") && plain(&bundle.wasm, ".wasm")).then_some(bundle)
    }
}

/// Read once per process: the site's files do not change under a running server.
fn public_bundle(options: &LeptosOptions) -> Option<&'static PublicBundle> {
    static BUNDLE: OnceLock<Option<PublicBundle>> = OnceLock::new();
    BUNDLE
        .get_or_init(|| {
            let path = Path::new(options.site_root.as_ref())
                .join(options.site_pkg_dir.as_ref())
                .join(MANIFEST);
            let bundle = std::fs::read_to_string(&path)
                .ok()
                .and_then(|text| PublicBundle::parse(&text));
            if bundle.is_none() {
                // The pages still work (their forms post without JavaScript); tests that
                // run without a built site get here.
                tracing::warn!(
                    path = %path.display(),
                    "no public site bundle: its pages are served without hydrating"
                );
            }
            bundle
        })
        .as_ref()
}

/// The public site's counterpart of `HydrationScripts`: preloads its bundle and hydrates the
/// page with it. Nothing when the site was built without it.
pub fn public_hydration_scripts(options: &LeptosOptions) -> Option<impl IntoView> {
    let bundle = public_bundle(options)?;
    let pkg = format!("/{}", options.site_pkg_dir);
    let js = format!("{pkg}/{}", bundle.js);
    let wasm = format!("{pkg}/{}", bundle.wasm);
    Some(view! {
        <link rel="modulepreload" href={js.clone()} />
        // wasm-bindgen fetches the module same-origin with default credentials: a preload in
        // another mode would be fetched twice.
        <link rel="preload" href={wasm.clone()} r#as="fetch" r#type="application/wasm" crossorigin="anonymous" />
        <script type="module" nonce=leptos::nonce::use_nonce()>{hydrate_script(&js, &wasm)}</script>
    })
}

/// The module script that loads the bundle and hydrates the page.
fn hydrate_script(js: &str, wasm: &str) -> String {
    // JSON strings are JavaScript string literals; the names are plain (see `parse`).
    let js = serde_json::Value::from(js);
    let wasm = serde_json::Value::from(wasm);
    format!(
        "import({js}).then(bundle => bundle.default({{ module_or_path: {wasm} }}).then(() => bundle.hydrate()));"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_names_plain_files_or_nothing() {
        let good = PublicBundle::parse(r#"{"js":"public.ab12.js","wasm":"public.cd_3-4.wasm"}"#);
        assert_eq!(
            good,
            Some(PublicBundle {
                js: "public.ab12.js".into(),
                wasm: "public.cd_3-4.wasm".into(),
            })
        );
        for bad in [
            r#"{"js":"public.js"}"#,
            r#"{"js":"../x.js","wasm":"public.wasm"}"#,
            r#"{"js":"a\".js","wasm":"public.wasm"}"#,
            r#"{"js":"x</script>.js","wasm":"public.wasm"}"#,
            r#"{"js":"public.wasm","wasm":"public.js"}"#,
            r#"{"js":".js","wasm":"public.wasm"}"#,
            "not json",
        ] {
            assert_eq!(PublicBundle::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_script_imports_the_bundle_and_hydrates_with_its_module() {
        assert_eq!(
            hydrate_script("/pkg/public.1.js", "/pkg/public.2.wasm"),
            r#"import("/pkg/public.1.js").then(bundle => bundle.default({ module_or_path: "/pkg/public.2.wasm" }).then(() => bundle.hydrate()));"#
        );
    }
}
