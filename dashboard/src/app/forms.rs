//! The lower panels: guided scenarios, the cluster config, side by side, share and export.

use super::*;
use crate::form::ConfigForm;

#[derive(Properties, PartialEq)]
pub(super) struct ScenariosProps {
    pub(super) current: Option<&'static str>,
    pub(super) dispatch: Dispatch,
}

#[function_component(Scenarios)]
pub(super) fn scenarios_panel(props: &ScenariosProps) -> Html {
    let dispatch = &props.dispatch;
    html! {
        <section class="panel" aria-label="Guided scenarios" id="scenarios">
            <h2>{ "Guided scenarios" }</h2>
            <p class="muted">{ "Each loads a cluster and a script of faults; press Play, or drag the timeline." }</p>
            <ul class="scenario-list">
                { for SCENARIOS.iter().map(|s| {
                    let id = s.id;
                    let current = props.current == Some(id);
                    html! { <li><button id={format!("scenario-{id}")} class={classes!(current.then_some("current"))}
                        onclick={dispatch.reform(move |_| Action::LoadScenario(id))}>{ s.title }</button></li> }
                }) }
            </ul>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct ConfigProps {
    pub(super) spec: ClusterSpec,
    pub(super) dispatch: Dispatch,
}

#[function_component(Config)]
pub(super) fn config(props: &ConfigProps) -> Html {
    let dispatch = &props.dispatch;
    let spec = &props.spec;
    let topic = spec.topics.first();
    let form = use_state(|| ConfigForm::of(spec));
    // A new run (a scenario, an import) brings its own config: show it.
    {
        let form = form.clone();
        use_effect_with(spec.clone(), move |spec| {
            form.set(ConfigForm::of(spec));
            || ()
        });
    }
    let apply = |keep: bool| {
        let (base, form) = (spec.clone(), form.clone());
        dispatch.reform(move |_| match form.apply(&base) {
            Ok(spec) => Action::Configure(spec, keep),
            Err(error) => Action::Fail(error),
        })
    };
    // Each field writes its text into the form; parsing waits for Apply, which refuses bad input.
    let field = |update: fn(&mut ConfigForm, String)| {
        let form = form.clone();
        Callback::from(move |event: Event| {
            let mut next = (*form).clone();
            update(&mut next, select_or_input(&event));
            form.set(next);
        })
    };
    let number = |id: &'static str, label: &'static str, value: &str, update: fn(&mut ConfigForm, String)| {
        html! { <label>{ label }<input id={id} type="text" inputmode="numeric" value={value.to_owned()}
        onchange={field(update)} /></label> }
    };
    let unclean_toggle = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let mut next = (*form).clone();
            next.unclean = e.target_unchecked_into::<HtmlInputElement>().checked();
            form.set(next);
        })
    };
    html! {
        <section class="panel" aria-label="Configuration" id="config">
            <h2>{ "Configuration" }</h2>
            <p class="muted">{ format!("Applies to the first topic ({}). Kafka's names and defaults.", topic.map_or("-", |t| t.name.as_str())) }</p>
            <div class="form-grid">
                { number("cfg-brokers", "brokers", &form.brokers, |f, v| f.brokers = v) }
                { number("cfg-partitions", "partitions", &form.partitions, |f, v| f.partitions = v) }
                { number("cfg-rf", "replication.factor", &form.replication_factor, |f, v| f.replication_factor = v) }
                { number("cfg-min-isr", "min.insync.replicas", &form.min_insync_replicas, |f, v| f.min_insync_replicas = v) }
                { number("cfg-seed", "seed", &form.seed, |f, v| f.seed = v) }
                <label>{ "log.flush.interval.messages" }
                    <select id="cfg-flush" onchange={field(|f, v| f.flush = v)}>
                        <option value="" selected={form.flush.is_empty()}>{ "default (OS page cache)" }</option>
                        <option value="1" selected={form.flush == "1"}>{ "1 (fsync every record)" }</option>
                    </select></label>
                <label class="check"><input id="cfg-unclean" type="checkbox" checked={form.unclean} onchange={unclean_toggle} />
                    { "unclean.leader.election.enable" }</label>
            </div>
            <div class="row">
                <button id="apply-keep" onclick={apply(true)}>{ "Apply, replay the same actions" }</button>
                <button id="apply-fresh" onclick={apply(false)}>{ "Apply, fresh run" }</button>
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct CompareProps {
    pub(super) compare: Option<Rc<Comparison>>,
    pub(super) dispatch: Dispatch,
}

#[function_component(Compare)]
pub(super) fn compare(props: &CompareProps) -> Html {
    let dispatch = &props.dispatch;
    let variations = [
        (
            "compare-acks-all",
            "acks=all + min.insync.replicas=2",
            Variation { acks: Some(-1), min_insync_replicas: Some(2), ..Variation::default() },
        ),
        ("compare-acks-1", "acks=1", Variation { acks: Some(1), ..Variation::default() }),
        ("compare-unclean", "unclean election on", Variation { unclean: Some(true), ..Variation::default() }),
        (
            "compare-pre-kip-101",
            "before KIP-101",
            Variation { truncate_to_high_watermark: Some(true), ..Variation::default() },
        ),
        (
            "compare-kip-101",
            "leader epochs (KIP-101)",
            Variation { truncate_to_high_watermark: Some(false), ..Variation::default() },
        ),
        ("compare-no-racks", "no broker.rack", Variation { racks: Some(false), ..Variation::default() }),
    ];
    let side = |side: &crate::state::Side| {
        let r = &side.report;
        html! {
            <div class="side">
                <h3>{ &side.label }</h3>
                <ul>
                    <li>{ format!("acknowledged 0 / 1 / all: {} / {} / {}", r.acknowledged.acks_0, r.acknowledged.acks_1, r.acknowledged.acks_all) }</li>
                    <li class={classes!("lost", (r.lost.total() > 0).then_some("bad"))}>{ format!("lost 0 / 1 / all: {} / {} / {}", r.lost.acks_0, r.lost.acks_1, r.lost.acks_all) }</li>
                    <li>{ format!("duplicates: {}", r.duplicates) }</li>
                    <li>{ format!("unclean elections: {}", r.unclean_elections) }</li>
                    <li>{ format!("produce requests refused by leaders: {}", r.produce_refusals) }</li>
                    <li>{ format!("violations: {}", r.violations.len()) }</li>
                    if side.skipped > 0 { <li>{ format!("{} action(s) did not apply", side.skipped) }</li> }
                </ul>
                if !side.lost.is_empty() {
                    <p class="muted">{ "lost: " }{ side.lost.iter().take(20).map(|w| format!("{}-{}@{}", w.topic, w.partition, w.offset)).collect::<Vec<_>>().join(", ") }</p>
                }
            </div>
        }
    };
    html! {
        <section class="panel" aria-label="Side by side" id="compare">
            <h2>{ "Side by side" }</h2>
            <p class="muted">{ "The same seed and the same actions up to now under another config; both are healed, settled and checked." }</p>
            <div class="row">
                { for variations.iter().cloned().map(|(id, label, variation)| html! {
                    <button id={id} onclick={dispatch.reform(move |_| Action::Compare(variation.clone()))}>{ format!("vs {label}") }</button>
                }) }
            </div>
            <p class="muted">{ "Or play both on one scrubber, as two clusters, record by record:" }</p>
            <div class="row">
                { for variations.into_iter().map(|(id, label, variation)| html! {
                    <button id={id.replace("compare-", "twin-")} onclick={dispatch.reform(move |_| Action::Twin(Some(variation.clone())))}>{ format!("with {label}") }</button>
                }) }
            </div>
            if let Some(comparison) = props.compare.clone() {
                <div class="sides" id="comparison">
                    { side(&comparison.a) }
                    { side(&comparison.b) }
                </div>
                <button onclick={dispatch.reform(|_| Action::CloseCompare)}>{ "Close" }</button>
            }
        </section>
    }
}

/// Lines of a Jepsen history shown on the page (the download has them all).
const HISTORY_SHOWN: usize = 200;

/// Offers `text` as a file download.
fn download(mime: &str, name: &str, text: &str) {
    let href = format!("data:{mime};charset=utf-8,{}", crate::link::encode(text));
    let document = gloo::utils::document();
    if let Ok(anchor) = document.create_element("a") {
        let _ = anchor.set_attribute("href", &href);
        let _ = anchor.set_attribute("download", name);
        if let Some(anchor) = wasm_bindgen::JsCast::dyn_ref::<web_sys::HtmlElement>(&anchor) {
            anchor.click();
        }
    }
}

#[function_component(Share)]
pub(super) fn share(props: &Props) -> Html {
    let state = &props.state;
    let dispatch = &props.dispatch;
    let url = use_state(String::new);
    let import = use_node_ref();
    let on_share = {
        let (state, url) = (state.clone(), url.clone());
        Callback::from(move |_| {
            let link = share_url(&state);
            let hash = link.split_once('#').map_or("", |(_, hash)| hash).to_owned();
            if let Ok(history) = gloo::utils::window().history() {
                let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("#{hash}")));
            }
            url.set(link);
        })
    };
    let exported = use_state(String::new);
    // The JSON is made on request (not every frame): shown, and downloaded as a file.
    let on_export = {
        let (state, exported) = (state.clone(), exported.clone());
        Callback::from(move |_| {
            let json = serde_json::to_string_pretty(&state.view.recording).unwrap_or_default();
            download("application/json", "rill-run.json", &json);
            exported.set(json);
        })
    };
    // Jepsen's history is replayed on request: (what it holds, its first lines).
    let history = use_state(|| None::<(String, String)>);
    let on_history = {
        let (state, history, dispatch) = (state.clone(), history.clone(), dispatch.clone());
        Callback::from(move |_| match state.jepsen_history() {
            Ok((edn, summary)) => {
                download("application/edn", "history.edn", &edn);
                let mut head: String = edn.lines().take(HISTORY_SHOWN).collect::<Vec<_>>().join("\n");
                if edn.lines().nth(HISTORY_SHOWN).is_some() {
                    head.push_str("\n… (the whole history is in history.edn)");
                }
                history.set(Some((summary, head)));
            }
            Err(error) => dispatch.emit(Action::Fail(error.to_string())),
        })
    };
    let on_import = {
        let import = import.clone();
        dispatch.reform(move |_| {
            let text = import.cast::<HtmlTextAreaElement>().map(|t| t.value()).unwrap_or_default();
            match serde_json::from_str(&text) {
                Ok(recording) => Action::Load(recording, None, None),
                Err(error) => Action::Fail(format!("INVALID_REQUEST: not a Rill run: {error}")),
            }
        })
    };
    html! {
        <section class="panel" aria-label="Share" id="share">
            <h2>{ "Share, export, import" }</h2>
            <div class="row">
                <button id="share-link" onclick={on_share}>{ "Make a link to this run" }</button>
                <button id="export" onclick={on_export}>{ "Export JSON" }</button>
                <button id="export-history" onclick={on_history}
                    title="The sends, acknowledgements and polls as Jepsen's Kafka workload history (history.edn)">
                    { "Export history for Jepsen" }</button>
            </div>
            if let Some((summary, head)) = (*history).clone() {
                <p id="history-summary" role="status">{ summary }</p>
                <label class="wide">{ "history.edn (downloaded; check it with jepsen.tests.kafka's checker)" }
                    <textarea id="history-edn" readonly=true rows="3" value={head}></textarea></label>
            }
            if !exported.is_empty() {
                <label class="wide">{ "Exported run (also downloaded as rill-run.json)" }
                    <textarea id="export-json" readonly=true rows="3" value={(*exported).clone()}></textarea></label>
            }
            if !url.is_empty() {
                <label class="wide">{ "Link (opens this exact run)" }<input id="share-url" readonly=true value={(*url).clone()} /></label>
            }
            <label class="wide">{ "Import a run (paste exported JSON)" }<textarea id="import-json" ref={import} rows="3"></textarea></label>
            <button id="import" onclick={on_import}>{ "Import" }</button>
        </section>
    }
}
