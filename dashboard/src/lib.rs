//! # rill-dashboard
//!
//! The cluster dashboard: a Yew app that runs a deterministic simulated Kafka cluster from
//! `rill-core` in the browser. Watch leaders, ISR, high watermarks and consumer groups; crash,
//! pause and cut brokers; produce with different acks; scrub the timeline back, fork the
//! future, compare two configs side by side and share a run as a link.
//!
//! Code map: [`state`] is the pure reducer (`Reducible` + `Action`, tested natively),
//! [`scenarios`] the guided scenarios, [`form`] the forms' parsing, [`link`] share links, [`bisect`] a loss's point of no return, [`metrics`] Kafka's metrics over the run, `app` the components and effects (browser only).

pub mod bisect;
pub mod form;
pub mod history;
pub mod link;
pub mod metrics;
pub mod scenarios;
pub mod state;

#[cfg(target_arch = "wasm32")]
mod app;

/// Mounts the dashboard on the page's `#app` element (or `<body>`).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    let document = gloo::utils::document();
    match document.get_element_by_id("app") {
        Some(root) => {
            root.set_inner_html("");
            yew::Renderer::<app::App>::with_root(root).render();
        }
        None => {
            yew::Renderer::<app::App>::new().render();
        }
    }
}
