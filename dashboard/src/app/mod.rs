//! The dashboard's components. State lives in [`crate::state`]; here are the views, the
//! callbacks that turn DOM events into actions, and the effects (animation frames, the URL).

use std::rc::Rc;

use gloo::render::{request_animation_frame, AnimationFrame};
use rill_core::sim::checker::LostWrite;
use rill_core::sim::session::Action as SimAction;
use rill_core::sim::spec::{AcksSpec, ClusterSpec, GroupMemberSpec, ProduceSpec, ReplicaSnapshot, WorkloadSpec};
use rill_core::sim::{BrokerStatus, Fault, MessageRef};
use wasm_bindgen::JsValue;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::scenarios::{self, SCENARIOS};
use crate::state::{Action, Comparison, State, Tone, Variation, SPEEDS};

mod act;
mod cluster;
mod event_log;
mod forms;
mod jepsen;
mod metrics;
mod timeline;
mod twin;

use act::{Act, Groups};
use cluster::{Cluster, Partitions};
use event_log::EventLog;
use forms::{Compare, Config, Scenarios, Share};
use jepsen::Jepsen;
use metrics::Metrics;
use timeline::{Header, Timeline};
use twin::TwinPanel;

/// Offsets drawn per replica row.
const CELLS: i64 = 16;

/// Messages drawn in flight at most.
const DOTS_MAX: usize = 150;

/// Event-log lines drawn.
const LOG_LINES: usize = 120;

type Dispatch = Callback<Action>;

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1_000.0)
}

fn input_value(event: &Event) -> String {
    event.target_unchecked_into::<HtmlInputElement>().value()
}

fn select_value(event: &Event) -> String {
    event.target_unchecked_into::<HtmlSelectElement>().value()
}

fn acks_spec(acks: &str) -> AcksSpec {
    match acks {
        "0" => AcksSpec::Number(0),
        "1" => AcksSpec::Number(1),
        _ => AcksSpec::Number(-1),
    }
}

/// A change handler storing the select's or input's new value in `handle`.
fn set_from(handle: &UseStateHandle<String>) -> Callback<Event> {
    let handle = handle.clone();
    Callback::from(move |event: Event| handle.set(select_or_input(&event)))
}

fn select_or_input(event: &Event) -> String {
    let target = event.target().expect("an event has a target");
    if let Some(select) = wasm_bindgen::JsCast::dyn_ref::<HtmlSelectElement>(&target) {
        select.value()
    } else {
        input_value(event)
    }
}

/// Frame timings for the browser tests and the curious: `window.rillFrames` holds the work
/// time of each animated frame (simulation + render, ms) and `window.rillFrameGaps` the time
/// between frames.
fn record_frame(work_ms: f64, gap_ms: Option<f64>) {
    let window = gloo::utils::window();
    for (name, value) in [("rillFrames", Some(work_ms)), ("rillFrameGaps", gap_ms)] {
        let Some(value) = value else { continue };
        let array = js_sys::Reflect::get(&window, &JsValue::from_str(name))
            .ok()
            .filter(js_sys::Array::is_array)
            .map(wasm_bindgen::JsCast::unchecked_into::<js_sys::Array>)
            .unwrap_or_else(|| {
                let array = js_sys::Array::new();
                let _ = js_sys::Reflect::set(&window, &JsValue::from_str(name), &array);
                array
            });
        if array.length() < 100_000 {
            array.push(&JsValue::from_f64(value));
        }
    }
}

fn now_wall_ms() -> f64 {
    gloo::utils::window().performance().map_or(0.0, |p| p.now())
}

/// Loads what the URL's hash names: a shared run (at its position), a scenario, the load test.
fn load_from_hash(dispatch: &Dispatch) {
    let hash = gloo::utils::window().location().hash().unwrap_or_default();
    let link = match crate::link::parse(&hash) {
        Ok(link) => link,
        Err(error) => return dispatch.emit(Action::Fail(error)),
    };
    if let Some(run) = link.run {
        match serde_json::from_str(&run) {
            Ok(recording) => dispatch.emit(Action::Load(recording, link.scenario, link.at)),
            Err(error) => dispatch.emit(Action::Fail(format!("INVALID_REQUEST: the link holds no valid run: {error}"))),
        }
    } else if link.scenario.as_deref() == Some("load") {
        dispatch.emit(Action::Configure(scenarios::load_spec(), false));
        dispatch.emit(Action::Do(SimAction::StartProducer(scenarios::load_workload())));
    } else if let Some(id) = link.scenario {
        dispatch.emit(Action::LoadScenario(Box::leak(id.into_boxed_str())));
    }
    if let Some(speed) = link.speed {
        dispatch.emit(Action::SetSpeed(speed));
    }
    if let Some(pace) = link.pace {
        dispatch.emit(Action::SetPace(pace));
    }
    if link.play {
        dispatch.emit(Action::SetPlaying(true));
    }
}

/// The shareable URL of the whole run, at the position shown now.
fn share_url(state: &State) -> String {
    let location = gloo::utils::window().location();
    let base =
        format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_else(|_| "/".to_owned()));
    let hash = crate::link::hash(&state.view.recording, state.events(), state.scenario.map(|s| s.id));
    format!("{base}#{hash}")
}

/// The whole dashboard.
#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::initial);
    // One callback for the app's lifetime, so components whose other props did not change
    // skip rendering (Callback equality is by identity).
    let dispatch: Dispatch = {
        let dispatcher = state.dispatcher();
        (*use_memo((), move |()| Callback::from(move |action| dispatcher.dispatch(action)))).clone()
    };
    // Load a shared run or scenario from the URL once.
    {
        let dispatch = dispatch.clone();
        use_effect_with((), move |()| {
            load_from_hash(&dispatch);
            // For the memory benchmark and the curious: the WebAssembly memory, whose
            // `buffer.byteLength` is what the page's Rust state occupies (it never shrinks).
            let _ = js_sys::Reflect::set(
                &gloo::utils::window(),
                &JsValue::from_str("rillWasmMemory"),
                &wasm_bindgen::memory(),
            );
            || ()
        });
    }
    // The frame loop: while playing, every render asks for the next animation frame.
    let frame = use_mut_ref(|| None::<AnimationFrame>);
    let frame_start = use_mut_ref(|| None::<f64>);
    let last_frame = use_mut_ref(|| None::<f64>);
    {
        let dispatch = dispatch.clone();
        let frame = frame.clone();
        let frame_start = frame_start.clone();
        let last_frame = last_frame.clone();
        use_effect_with((state.playing, state.version), move |(playing, _)| {
            if let Some(start) = frame_start.borrow_mut().take() {
                let gap = last_frame.borrow_mut().replace(start).map(|last| start - last);
                record_frame(now_wall_ms() - start, gap);
            }
            if *playing {
                let frame_start = frame_start.clone();
                *frame.borrow_mut() = Some(request_animation_frame(move |timestamp| {
                    *frame_start.borrow_mut() = Some(timestamp);
                    dispatch.emit(Action::Tick(timestamp));
                }));
            } else {
                *frame.borrow_mut() = None;
                *last_frame.borrow_mut() = None;
            }
            || ()
        });
    }
    // Keyboard shortcuts: Space play/pause, "." step, ←/→ one second, Home/End.
    let keys_state = use_mut_ref(|| (false, 0_u64, 0_u64));
    *keys_state.borrow_mut() = (state.playing, state.now_ms(), state.view.head_event);
    {
        let dispatch = dispatch.clone();
        use_effect_with((), move |()| {
            let listener = gloo::events::EventListener::new(&gloo::utils::document(), "keydown", move |event| {
                let Some(event) = wasm_bindgen::JsCast::dyn_ref::<web_sys::KeyboardEvent>(event) else { return };
                let typing = event
                    .target()
                    .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
                    .is_some_and(|element| {
                        matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT" | "BUTTON")
                    });
                if typing || event.ctrl_key() || event.meta_key() || event.alt_key() {
                    return;
                }
                let (playing, now_ms, head) = *keys_state.borrow();
                let action = match event.key().as_str() {
                    " " | "k" => Action::SetPlaying(!playing),
                    "." => Action::Step,
                    "ArrowRight" => Action::SeekTime(now_ms + 1_000),
                    "ArrowLeft" => Action::SeekTime(now_ms.saturating_sub(1_000)),
                    "Home" => Action::Seek(0),
                    "End" => Action::Seek(head),
                    _ => return,
                };
                event.prevent_default();
                dispatch.emit(action);
            });
            move || drop(listener)
        });
    }
    let state: Rc<State> = (*state).clone().into();
    html! {
        <div class="app">
            <Header state={state.clone()} />
            <nav class="jump" aria-label="Sections">
                <a href="#scenarios">{ "Scenarios" }</a>
                <a href="#config">{ "Configuration" }</a>
                <a href="#compare">{ "Side by side" }</a>
                <a href="#share">{ "Share" }</a>
                <a href="#metrics">{ "Metrics" }</a>
                <span class="hint">{ "Keys: Space play/pause · . step · ←/→ 1 s · Home/End" }</span>
            </nav>
            <Timeline state={state.clone()} dispatch={dispatch.clone()} />
            if let Some(scenario) = state.scenario {
                <section class="scenario-current" id="scenario-current" aria-label="Scenario">
                    <h2>{ scenario.title }</h2>
                    <p>{ scenario.story }</p>
                    <p class="lesson"><strong>{ "Lesson: " }</strong>{ scenario.lesson }</p>
                    if let Some((at_ms, text)) = state.chapter {
                        <div class="chapter" id="chapter" role="status">
                            <strong>{ format!("⏸ {}: ", seconds(at_ms)) }</strong>{ text }{ " " }
                            if at_ms < scenario.duration_ms {
                                <button class="primary" onclick={dispatch.reform(|_| Action::SetPlaying(true))}>{ "Continue" }</button>
                            }
                        </div>
                    }
                    if !scenario.chapters.is_empty() {
                        <label class="check"><input id="pace" type="checkbox" checked={state.pace}
                            onchange={dispatch.reform(|e: Event| Action::SetPace(e.target_unchecked_into::<HtmlInputElement>().checked()))} />
                            { "pause at the key moments" }</label>
                    }
                </section>
            }
            if let Some(fork) = state.fork.clone() {
                <div class="banner fork" role="status" id="fork">
                    <span><strong>{ "Forked run" }</strong>{ format!(" — {} at {}.", fork.what, seconds(fork.at_ms)) }</span>
                    <button id="diff-fork" onclick={dispatch.reform(|_| Action::Twin(None))}
                        title="Play this run and the one before the fork on one scrubber, record by record">{ "Diff with the run before" }</button>
                    <button id="undo" onclick={dispatch.reform(|_| Action::Undo)}>{ "Undo" }</button>
                </div>
            }
            if let Some(error) = state.error.clone() {
                <div class="banner error" role="alert" id="error">
                    <span>{ error }</span>
                    <button onclick={dispatch.reform(|_| Action::DismissError)}>{ "Dismiss" }</button>
                </div>
            }
            if let Some(notice) = state.notice.clone() {
                <div class="banner notice" role="status" id="notice">
                    <span>{ notice }</span>
                    <button onclick={dispatch.reform(|_| Action::DismissError)}>{ "Dismiss" }</button>
                </div>
            }
            if let Some(view) = state.twin_view.clone() {
                <TwinPanel view={view} here={state.clone()} dispatch={dispatch.clone()} />
            }
            <main class="layout">
                <div class="column">
                    <Cluster state={state.clone()} dispatch={dispatch.clone()} />
                    <Partitions state={state.clone()} />
                </div>
                <div class="column">
                    <Jepsen state={state.clone()} dispatch={dispatch.clone()} />
                    <Metrics state={state.clone()} />
                    <Act state={state.clone()} dispatch={dispatch.clone()} />
                    <Groups state={state.clone()} dispatch={dispatch.clone()} />
                    <EventLog state={state.clone()} dispatch={dispatch.clone()} />
                </div>
            </main>
            <div class="layout lower">
                <Scenarios current={state.scenario.map(|s| s.id)} dispatch={dispatch.clone()} />
                <Config spec={state.view.spec.clone()} dispatch={dispatch.clone()} />
                <Compare compare={state.compare.clone()} dispatch={dispatch.clone()} />
                <Share state={state.clone()} dispatch={dispatch.clone()} />
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct StateProps {
    state: Rc<State>,
}

#[derive(Properties, PartialEq)]
struct Props {
    state: Rc<State>,
    dispatch: Dispatch,
}
