//! The browser entry point: hydrates the server-rendered page and nothing else.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics while developing; the release bundle aborts on panic, and the hook's
    // formatting code would cost more in every download than it saves.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    else {
        return;
    };
    // Asynchronous: a screen's code is a chunk of its own (lazy routes), fetched before its
    // part of the page can be hydrated. `leptos::mount::hydrate_lazy` does the same but gives
    // no way to learn when it is done.
    wasm_bindgen_futures::spawn_local(async move {
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // A marker for the browser tests (and anyone debugging) that event handlers are live.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
