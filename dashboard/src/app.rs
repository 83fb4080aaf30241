//! The dashboard's components. State lives in [`crate::state`]; here are the views, the
//! callbacks that turn DOM events into actions, and the effects (animation frames, the URL).

use std::rc::Rc;

use gloo::render::{request_animation_frame, AnimationFrame};
use rill_core::sim::checker::LostWrite;
use rill_core::sim::session::Action as SimAction;
use rill_core::sim::spec::{AcksSpec, ClusterSpec, GroupMemberSpec, ProduceSpec, ReplicaSnapshot, WorkloadSpec};
use rill_core::sim::{BrokerStatus, Fault};
use wasm_bindgen::JsValue;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::scenarios::{self, SCENARIOS};
use crate::state::{Action, Comparison, State, Tone, Variation, SPEEDS};

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

/// Reads `#run=...&scenario=...&play=1&speed=2` from the URL.
fn load_from_hash(dispatch: &Dispatch) {
    let hash = gloo::utils::window().location().hash().unwrap_or_default();
    let mut run = None;
    let mut scenario = None;
    let mut play = false;
    let mut speed = None;
    for pair in hash.trim_start_matches('#').split('&') {
        let Some((key, value)) = pair.split_once('=') else { continue };
        let value: String = js_sys::decode_uri_component(value).map(String::from).unwrap_or_default();
        match key {
            "run" => run = Some(value),
            "scenario" => scenario = Some(value),
            "play" => play = value == "1",
            "speed" => speed = value.parse::<f64>().ok(),
            _ => {}
        }
    }
    if let Some(run) = run {
        match serde_json::from_str(&run) {
            Ok(recording) => dispatch.emit(Action::Load(recording, scenario)),
            Err(error) => dispatch.emit(Action::Fail(format!("INVALID_REQUEST: the link holds no valid run: {error}"))),
        }
    } else if scenario.as_deref() == Some("load") {
        dispatch.emit(Action::Configure(scenarios::load_spec(), false));
        dispatch.emit(Action::Do(SimAction::StartProducer(scenarios::load_workload())));
    } else if let Some(id) = scenario {
        dispatch.emit(Action::LoadScenario(Box::leak(id.into_boxed_str())));
    }
    if let Some(speed) = speed {
        dispatch.emit(Action::SetSpeed(speed));
    }
    if play {
        dispatch.emit(Action::SetPlaying(true));
    }
}

/// The shareable URL of the run so far.
fn share_url(state: &State) -> String {
    let location = gloo::utils::window().location();
    let base =
        format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_else(|_| "/".to_owned()));
    let json = serde_json::to_string(&state.view.recording).unwrap_or_default();
    let mut url = format!("{base}#run={}", String::from(js_sys::encode_uri_component(&json)));
    if let Some(scenario) = state.scenario {
        url.push_str(&format!("&scenario={}", scenario.id));
    }
    url
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
    let state: Rc<State> = (*state).clone().into();
    html! {
        <div class="app">
            <Header state={state.clone()} />
            <Timeline state={state.clone()} dispatch={dispatch.clone()} />
            if let Some(scenario) = state.scenario {
                <section class="scenario-current" id="scenario-current" aria-label="Scenario">
                    <h2>{ scenario.title }</h2>
                    <p>{ scenario.story }</p>
                    <p class="lesson"><strong>{ "Lesson: " }</strong>{ scenario.lesson }</p>
                </section>
            }
            if let Some(error) = state.error.clone() {
                <div class="banner error" role="alert" id="error">
                    <span>{ error }</span>
                    <button onclick={dispatch.reform(|_| Action::DismissError)}>{ "Dismiss" }</button>
                </div>
            }
            <main class="layout">
                <div class="column">
                    <Cluster state={state.clone()} dispatch={dispatch.clone()} />
                    <Partitions state={state.clone()} />
                </div>
                <div class="column">
                    <Jepsen state={state.clone()} dispatch={dispatch.clone()} />
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

#[function_component(Header)]
fn header(props: &StateProps) -> Html {
    let state = &props.state;
    let snapshot = &state.view.snapshot;
    html! {
        <header class="header">
            <h1>{ "Rill" }<span class="subtitle">{ " · a Kafka cluster, simulated in your browser" }</span></h1>
            <dl class="facts">
                <div><dt>{ "seed" }</dt><dd id="seed">{ state.view.spec.seed }</dd></div>
                <div><dt>{ "time" }</dt><dd id="now">{ seconds(snapshot.now_ms) }</dd></div>
                <div><dt>{ "events" }</dt><dd id="events">{ snapshot.events }</dd></div>
                <div><dt>{ "trace hash" }</dt><dd id="trace-hash">{ &snapshot.trace_hash }</dd></div>
            </dl>
        </header>
    }
}

#[function_component(Timeline)]
fn timeline(props: &Props) -> Html {
    let state = &props.state;
    let dispatch = &props.dispatch;
    let head = state.view.head_event.max(1);
    let playing = state.playing;
    let on_seek = dispatch.reform(|event: InputEvent| {
        let value = event.target_unchecked_into::<HtmlInputElement>().value();
        Action::Seek(value.parse().unwrap_or(0))
    });
    let on_speed = dispatch.reform(|event: Event| Action::SetSpeed(select_value(&event).parse().unwrap_or(1.0)));
    let speed = state.speed;
    let end = state.view.head_event;
    html! {
        <section class="timeline" aria-label="Time">
            <button id="play" class="primary" onclick={dispatch.reform(move |_| Action::SetPlaying(!playing))}>
                { if playing { "Pause" } else { "Play" } }
            </button>
            <button id="step" onclick={dispatch.reform(|_| Action::Step)} title="Process one event">{ "Step" }</button>
            <button id="to-end" onclick={dispatch.reform(move |_| Action::Seek(end))}
                title="Jump to the furthest point reached (the end of a scenario)">{ "To end" }</button>
            <label class="speed">{ "Speed " }
                <select id="speed" onchange={on_speed}>
                    { for SPEEDS.iter().map(|s| html! {
                        <option value={s.to_string()} selected={(*s - speed).abs() < 1e-9}>{ format!("{s}×") }</option>
                    }) }
                </select>
            </label>
            <div class="scrubber">
                <label for="scrubber" class="visually-hidden">{ "Timeline: events so far" }</label>
                <input id="scrubber" type="range" min="0" max={head.to_string()} value={state.events().to_string()}
                    oninput={on_seek} aria-valuetext={seconds(state.now_ms())} />
                <div class="marks" aria-hidden="true">
                    { for state.view.steps.iter().map(|(at_event, at_ms, what)| {
                        let left = (*at_event as f64 / head as f64 * 100.0).min(100.0);
                        html! { <span class="mark" style={format!("left:{left:.2}%")} title={format!("{}: {what}", seconds(*at_ms))}></span> }
                    }) }
                </div>
            </div>
            <span class="hint">{ "Drag back to replay; act in the past to fork." }</span>
        </section>
    }
}

fn status_class(status: BrokerStatus, fenced: bool) -> &'static str {
    match (status, fenced) {
        (BrokerStatus::Down, _) => "down",
        (BrokerStatus::Paused, _) => "paused",
        (BrokerStatus::Up, true) => "fenced",
        (BrokerStatus::Up, false) => "up",
    }
}

#[function_component(Cluster)]
fn cluster(props: &Props) -> Html {
    let state = &props.state;
    let dispatch = &props.dispatch;
    let snapshot = &state.view.snapshot;
    let count = snapshot.brokers.len().max(1);
    let position = |id: i32| {
        let index = snapshot.brokers.iter().position(|b| b.id == id).unwrap_or(0);
        let angle = std::f64::consts::TAU * index as f64 / count as f64 - std::f64::consts::FRAC_PI_2;
        (150.0 + 105.0 * angle.cos(), 120.0 + 95.0 * angle.sin())
    };
    let cut = |a: i32, b: i32| snapshot.cut_links.iter().any(|(from, to)| (*from, *to) == (a, b));
    let mut links = Vec::new();
    for (i, a) in snapshot.brokers.iter().enumerate() {
        for b in snapshot.brokers.iter().skip(i + 1) {
            let (ab, ba) = (cut(a.id, b.id), cut(b.id, a.id));
            let ((x1, y1), (x2, y2)) = (position(a.id), position(b.id));
            let class = match (ab, ba) {
                (true, true) => "link cut",
                (true, false) | (false, true) => "link half-cut",
                _ => "link",
            };
            let title = match (ab, ba) {
                (true, true) => format!("link {} ⇄ {} cut both ways", a.id, b.id),
                (true, false) => format!("link {} → {} cut", a.id, b.id),
                (false, true) => format!("link {} → {} cut", b.id, a.id),
                _ => format!("link {} ⇄ {}", a.id, b.id),
            };
            links.push(html! {
                <line class={class} x1={format!("{x1:.1}")} y1={format!("{y1:.1}")} x2={format!("{x2:.1}")} y2={format!("{y2:.1}")}>
                    <title>{ title }</title>
                </line>
            });
        }
    }
    let now = snapshot.now_ms;
    let dots = state.view.in_flight.iter().rev().take(DOTS_MAX).map(|message| {
        let ((x1, y1), (x2, y2)) = (position(message.from), position(message.to));
        let span = message.deliver_ms.saturating_sub(message.sent_ms).max(1) as f64;
        let t = (now.saturating_sub(message.sent_ms) as f64 / span).clamp(0.0, 1.0);
        let (x, y) = (x1 + (x2 - x1) * t, y1 + (y2 - y1) * t);
        let class = match message.api {
            "Fetch" | "FetchResponse" => "dot fetch",
            "Produce" | "ProduceResponse" => "dot produce",
            _ => "dot control",
        };
        html! { <circle class={class} cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="3" /> }
    });
    let nodes = snapshot.brokers.iter().map(|broker| {
        let (x, y) = position(broker.id);
        let class = format!("node {}", status_class(broker.status, broker.fenced));
        html! {
            <g class={class}>
                <circle cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="22" />
                <text x={format!("{x:.1}")} y={format!("{:.1}", y + 5.0)} text-anchor="middle">{ broker.id }</text>
                if broker.controller {
                    <text class="badge" x={format!("{x:.1}")} y={format!("{:.1}", y - 27.0)} text-anchor="middle">{ "controller" }</text>
                }
            </g>
        }
    });
    let cards = snapshot.brokers.iter().map(|broker| {
        let id = broker.id;
        let status = status_class(broker.status, broker.fenced);
        let leads = snapshot.partitions.iter().filter(|p| p.leader == Some(id) && !p.topic.starts_with("__")).count();
        let isolated =
            snapshot.brokers.iter().filter(|b| b.id != id).all(|b| cut(id, b.id) && cut(b.id, id)) && count > 1;
        let toggle = match broker.status {
            BrokerStatus::Down => ("Restart", Fault::Restart(id)),
            _ => ("Crash", Fault::Crash(id)),
        };
        let pause = match broker.status {
            BrokerStatus::Paused => Some(("Resume", Fault::Resume(id))),
            BrokerStatus::Up => Some(("Pause", Fault::Pause(id))),
            BrokerStatus::Down => None,
        };
        let net = if isolated { ("Reconnect", Fault::Reconnect(id)) } else { ("Isolate", Fault::Isolate(id)) };
        let button = |(label, fault): (&'static str, Fault), name: &str| {
            html! {
                <button id={format!("{}-{id}", name)} aria-label={format!("{label} broker {id}")}
                    onclick={dispatch.reform(move |_| Action::Do(SimAction::Fault(fault.clone())))}>{ label }</button>
            }
        };
        html! {
            <li class={format!("broker-card {status}")} id={format!("broker-{id}")}>
                <div class="card-title">
                    <strong>{ format!("Broker {id}") }</strong>
                    <span class={format!("status {status}")}>{ status }</span>
                    if broker.controller { <span class="tag">{ "controller" }</span> }
                </div>
                <div class="card-line">{ format!("leads {leads} partition(s)") }</div>
                <div class="card-actions">
                    { button(toggle, "crash") }
                    if let Some(pause) = pause { { button(pause, "pause") } }
                    { button(net, "isolate") }
                </div>
            </li>
        }
    });
    html! {
        <section class="panel cluster" aria-label="Cluster">
            <h2>{ "Brokers and network" }</h2>
            <div class="cluster-body">
                <svg class="network" viewBox="0 0 300 240" role="img" aria-label="Brokers, links and messages in flight">
                    { for links }
                    { for dots }
                    { for nodes }
                </svg>
                <ul class="broker-cards">{ for cards }</ul>
            </div>
            <p class="legend">
                <span class="dot-key fetch"></span>{ "fetch " }
                <span class="dot-key produce"></span>{ "produce " }
                <span class="dot-key control"></span>{ "controller / group " }
                <span class="line-key"></span>{ "cut link" }
            </p>
        </section>
    }
}

/// A cell's classes without allocating: colour by leader epoch, committed or not, flushed or not.
fn cell_class(epoch: i32, committed: bool, unflushed: bool) -> &'static str {
    const CLASSES: [[&str; 4]; 6] = [
        ["cell e0 uncommitted", "cell e0 uncommitted unflushed", "cell e0 committed", "cell e0 committed unflushed"],
        ["cell e1 uncommitted", "cell e1 uncommitted unflushed", "cell e1 committed", "cell e1 committed unflushed"],
        ["cell e2 uncommitted", "cell e2 uncommitted unflushed", "cell e2 committed", "cell e2 committed unflushed"],
        ["cell e3 uncommitted", "cell e3 uncommitted unflushed", "cell e3 committed", "cell e3 committed unflushed"],
        ["cell e4 uncommitted", "cell e4 uncommitted unflushed", "cell e4 committed", "cell e4 committed unflushed"],
        ["cell e5 uncommitted", "cell e5 uncommitted unflushed", "cell e5 committed", "cell e5 committed unflushed"],
    ];
    let epoch = usize::try_from(epoch.rem_euclid(6)).unwrap_or(0);
    CLASSES[epoch][usize::from(committed) * 2 + usize::from(unflushed)]
}

fn replica_row(replica: Option<&ReplicaSnapshot>, broker: i32, start: i64, leader: bool, in_isr: bool) -> Html {
    let note = replica
        .map_or_else(|| "down".to_owned(), |r| format!("LEO {} · HW {}", r.view.log_end_offset, r.view.high_watermark));
    let label = html! {
        <span class="replica-label">
            <span class="replica-name">
                { format!("broker {broker}") }
                if leader { <span class="tag leader">{ "leader" }</span> }
                if !in_isr { <span class="tag out">{ "out of ISR" }</span> }
            </span>
            <span class="replica-note">{ note }</span>
        </span>
    };
    let Some(replica) = replica else {
        return html! { <div class="replica offline">{ label }</div> };
    };
    let view = &replica.view;
    let records = &replica.records;
    let cells = (start..start + CELLS).map(|offset| {
        if offset < view.log_start_offset || offset >= view.log_end_offset {
            return html! { <span class="cell empty"></span> };
        }
        let epoch = records.binary_search_by_key(&offset, |r| r.offset).ok().map_or(0, |i| records[i].leader_epoch);
        html! { <span class={cell_class(epoch, offset < view.high_watermark, offset >= view.flushed_offset)}>{ offset }</span> }
    });
    html! {
        <div class="replica">
            { label }
            <span class="cells">{ for cells }</span>
        </div>
    }
}

#[function_component(Partitions)]
fn partitions(props: &StateProps) -> Html {
    let snapshot = &props.state.view.snapshot;
    let blocks = snapshot.partitions.iter().filter(|p| !p.topic.starts_with("__")).map(|partition| {
        let replica_of = |broker: i32| {
            snapshot.brokers.iter().find(|b| b.id == broker).and_then(|b| {
                b.replicas.iter().find(|r| r.view.tp.topic.as_ref() == partition.topic && r.view.tp.partition == partition.partition)
            })
        };
        let end = partition.replicas.iter().filter_map(|b| replica_of(*b)).map(|r| r.view.log_end_offset).max().unwrap_or(0);
        let start = (end - CELLS).max(0);
        let class = classes!(
            "partition",
            partition.under_replicated.then_some("under-replicated"),
            partition.offline.then_some("offline")
        );
        let leader = partition.leader.map_or_else(|| "none".to_owned(), |l| l.to_string());
        let isr: Vec<String> = partition.isr.iter().map(ToString::to_string).collect();
        html! {
            <li class={class} id={format!("partition-{}-{}", partition.topic, partition.partition)}>
                <div class="partition-title">
                    <strong>{ format!("{}-{}", partition.topic, partition.partition) }</strong>
                    <span class="leader">{ "leader " }<b class="leader-id">{ leader }</b></span>
                    <span>{ "epoch " }<b class="leader-epoch">{ partition.leader_epoch }</b></span>
                    <span>{ format!("ISR [{}]", isr.join(", ")) }</span>
                    if partition.offline { <span class="tag bad">{ "offline" }</span> }
                    else if partition.under_replicated { <span class="tag warn">{ "under-replicated" }</span> }
                </div>
                { for partition.replicas.iter().map(|b| replica_row(replica_of(*b), *b, start, partition.leader == Some(*b), partition.isr.contains(b))) }
            </li>
        }
    });
    html! {
        <section class="panel" aria-label="Partitions">
            <h2>{ "Partitions and replica logs" }</h2>
            <p class="legend">
                <span class="cell committed e1 key"></span>{ "committed (below HW) " }
                <span class="cell uncommitted e1 key"></span>{ "above HW " }
                <span class="cell unflushed e1 key"></span>{ "not flushed (lost on crash) · colour = leader epoch" }
            </p>
            <ul class="partitions">{ for blocks }</ul>
        </section>
    }
}

/// Lost writes found together (same partition, leader, epoch, acks and cause) as offset runs:
/// (first, last offset, count).
fn lost_groups(lost: &[LostWrite]) -> Vec<(&LostWrite, i64, usize)> {
    let mut groups: Vec<(&LostWrite, i64, usize)> = Vec::new();
    for write in lost {
        match groups.last_mut() {
            Some((first, last, count))
                if (
                    first.topic.as_str(),
                    first.partition,
                    first.leader,
                    first.leader_epoch,
                    first.acks,
                    &first.cause,
                ) == (
                    write.topic.as_str(),
                    write.partition,
                    write.leader,
                    write.leader_epoch,
                    write.acks,
                    &write.cause,
                ) && write.offset == *last + 1 =>
            {
                *last = write.offset;
                *count += 1;
            }
            _ => groups.push((write, write.offset, 1)),
        }
    }
    groups
}

#[function_component(Jepsen)]
fn jepsen(props: &Props) -> Html {
    let state = &props.state;
    let dispatch = &props.dispatch;
    let report = &state.view.snapshot.report;
    let lost = report.lost_live.total();
    let acks_name = |acks: i16| if acks == -1 { "all".to_owned() } else { acks.to_string() };
    html! {
        <section class="panel" aria-label="Invariants" id="jepsen">
            <h2>{ "Invariants and lost writes" }</h2>
            <dl class="counts">
                <div><dt>{ "acknowledged acks=0 / 1 / all" }</dt>
                    <dd>{ format!("{} / {} / {}", report.acknowledged.acks_0, report.acknowledged.acks_1, report.acknowledged.acks_all) }</dd></div>
                <div><dt>{ "lost so far" }</dt><dd id="lost-count">{ lost }</dd></div>
                <div><dt>{ "duplicates so far" }</dt><dd id="duplicate-count">{ report.duplicates_live }</dd></div>
                <div><dt>{ "unclean elections" }</dt><dd>{ report.unclean_elections }</dd></div>
                <div><dt>{ "violations" }</dt><dd id="violation-count">{ report.violations.len() }</dd></div>
            </dl>
            if lost > 0 {
                <div class="flag bad" id="lost-flag" role="status">
                    <strong>{ format!("⚠ {lost} acknowledged write(s) lost") }</strong>
                    <ul class="lost-list">
                        { for lost_groups(&report.lost_writes).into_iter().take(8).map(|(w, last, count)| {
                            let at = w.time_ms;
                            let offsets = if count == 1 { format!("offset {}", w.offset) } else { format!("offsets {}–{} ({count} writes)", w.offset, last) };
                            html! {
                                <li>
                                    { format!("{}-{} {offsets}, acks={}: not on the new leader {} (epoch {})",
                                        w.topic, w.partition, acks_name(w.acks), w.leader, w.leader_epoch) }
                                    if let Some(cause) = &w.cause { <span class="cause">{ format!(" — after: {cause}") }</span> }
                                    { " " }
                                    <button class="link" onclick={dispatch.reform(move |_| Action::SeekTime(at))}>{ format!("go to {}", seconds(at)) }</button>
                                </li>
                            }
                        }) }
                    </ul>
                </div>
            } else {
                <div class="flag good" id="no-loss" role="status">{ "✓ No acknowledged write lost so far" }</div>
            }
            if report.duplicates_live > 0 {
                <div class="flag warn" id="duplicate-flag" role="status">
                    <strong>{ format!("⚠ {} record(s) committed twice", report.duplicates_live) }</strong>
                    { " — a producer without idempotence retried a write whose response was lost (enable.idempotence=true prevents this). " }
                    { report.duplicate_writes.iter().take(10).map(|d| format!("{}-{}@{}", d.topic, d.partition, d.offset)).collect::<Vec<_>>().join(", ") }
                </div>
            }
            { for report.violations.iter().take(5).map(|v| html! {
                <div class="flag bad violation">{ format!("VIOLATION {}: {} (at {})", v.invariant, v.detail, seconds(v.time_ms)) }</div>
            }) }
            <div class="row">
                <button id="check-now" onclick={dispatch.reform(|_| Action::CheckNow)}
                    title="Replays the run in a copy, heals everything, lets it settle and runs the end-of-run checks">
                    { "Check now (heal, settle, verify)" }</button>
            </div>
            if let Some(final_report) = state.final_report.clone() {
                <div class="final" id="final-report">
                    <p>{ format!("End-of-run check of the run up to {} (after healing and {} s of settling):", seconds(final_report.0), crate::state::SETTLE_MS / 1_000) }</p>
                    <ul>
                        <li>{ format!("lost acks=0 / 1 / all: {} / {} / {}", final_report.1.lost.acks_0, final_report.1.lost.acks_1, final_report.1.lost.acks_all) }</li>
                        <li>{ format!("duplicates: {}", final_report.1.duplicates) }</li>
                        <li>{ format!("committed records rewritten: {}", final_report.1.committed_rewritten) }</li>
                        <li>{ format!("violations: {}", final_report.1.violations.len()) }</li>
                    </ul>
                </div>
            }
        </section>
    }
}

#[function_component(Act)]
fn act(props: &Props) -> Html {
    let state = &props.state;
    let dispatch = &props.dispatch;
    let topics: Vec<String> = state.view.spec.topics.iter().map(|t| t.name.clone()).collect();
    let first_topic = topics.first().cloned().unwrap_or_default();
    let topic = use_state(|| first_topic.clone());
    let key = use_state(|| "k1".to_owned());
    let value = use_state(|| "hello".to_owned());
    let acks = use_state(|| "all".to_owned());
    let rate = use_state(|| "10".to_owned());
    let link_from = use_state(|| "1".to_owned());
    let link_to = use_state(|| "2".to_owned());
    let topic_now = if topics.contains(&*topic) { (*topic).clone() } else { first_topic };
    let produce = {
        let (topic, key, value, acks) = (topic_now.clone(), key.clone(), value.clone(), acks.clone());
        dispatch.reform(move |_| {
            Action::Do(SimAction::Produce(ProduceSpec {
                topic: topic.clone(),
                key: (!key.is_empty()).then(|| (*key).clone()),
                value: Some((*value).clone()),
                acks: Some(acks_spec(&acks)),
                partition: None,
            }))
        })
    };
    let start = {
        let (topic, acks, rate) = (topic_now.clone(), acks.clone(), rate.clone());
        dispatch.reform(move |_| {
            let per_second: u64 = rate.parse().unwrap_or(10).clamp(1, 1_000);
            let acks = acks_spec(&acks);
            Action::Do(SimAction::StartProducer(WorkloadSpec {
                topic: topic.clone(),
                enable_idempotence: acks == AcksSpec::Number(-1) && per_second <= 100,
                acks: Some(acks),
                interval_ms: 1_000 / per_second,
                records: 1_000_000,
                start_ms: 0,
                keyed: true,
            }))
        })
    };
    let brokers: Vec<i32> = state.view.snapshot.brokers.iter().map(|b| b.id).collect();
    let broker_options = |selected: &str| {
        brokers
            .iter()
            .map(|b| html! { <option value={b.to_string()} selected={b.to_string() == selected}>{ b }</option> })
            .collect::<Html>()
    };
    let link = |heal: bool| {
        let (from, to) = (link_from.clone(), link_to.clone());
        dispatch.reform(move |_| {
            let (from, to) = (from.parse().unwrap_or(1), to.parse().unwrap_or(2));
            Action::Do(SimAction::Fault(if heal { Fault::HealLink { from, to } } else { Fault::CutLink { from, to } }))
        })
    };
    html! {
        <section class="panel" aria-label="Act">
            <h2>{ "Produce and break things" }</h2>
            <div class="form-grid">
                <label>{ "Topic" }
                    <select id="produce-topic" onchange={set_from(&topic)}>
                        { for topics.iter().map(|t| html! { <option value={t.clone()} selected={*t == topic_now}>{ t }</option> }) }
                    </select></label>
                <label>{ "Key" }<input id="produce-key" value={(*key).clone()} onchange={set_from(&key)} /></label>
                <label>{ "Value" }<input id="produce-value" value={(*value).clone()} onchange={set_from(&value)} /></label>
                <label>{ "acks" }
                    <select id="produce-acks" onchange={set_from(&acks)}>
                        { for ["0", "1", "all"].iter().map(|a| html! { <option value={*a} selected={*acks == *a}>{ a }</option> }) }
                    </select></label>
            </div>
            <div class="row">
                <button id="produce" class="primary" onclick={produce}>{ "Send one record" }</button>
                <label>{ "records/s " }<input id="rate" class="short" type="number" min="1" max="1000" value={(*rate).clone()} onchange={set_from(&rate)} /></label>
                <button id="start-producer" onclick={start}>{ "Start producer" }</button>
            </div>
            if !state.view.workloads.is_empty() {
                <ul class="workloads">
                    { for state.view.workloads.iter().filter(|w| w.3 > 0).map(|(client, topic, sent, _)| {
                        let client = *client;
                        html! { <li>{ format!("producer {client} → {topic}: {sent} sent ") }
                            <button onclick={dispatch.reform(move |_| Action::Do(SimAction::StopProducer(client)))}>{ "Stop" }</button></li> }
                    }) }
                </ul>
            }
            <div class="row">
                <label>{ "Link from " }<select id="link-from" onchange={set_from(&link_from)}>{ broker_options(&link_from) }</select></label>
                <label>{ " to " }<select id="link-to" onchange={set_from(&link_to)}>{ broker_options(&link_to) }</select></label>
                <button id="cut-link" onclick={link(false)}>{ "Cut" }</button>
                <button id="heal-link" onclick={link(true)}>{ "Heal" }</button>
                <button id="heal-network" onclick={dispatch.reform(|_| Action::Do(SimAction::Fault(Fault::HealNetwork)))}>{ "Heal all" }</button>
            </div>
        </section>
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

#[function_component(Groups)]
fn groups(props: &Props) -> Html {
    let state = &props.state;
    let dispatch = &props.dispatch;
    let group_id = use_state(|| "billing".to_owned());
    let assignor = use_state(|| "range".to_owned());
    let topics: Vec<String> = state.view.spec.topics.iter().map(|t| t.name.clone()).collect();
    let add = {
        let (group_id, assignor, topics) = (group_id.clone(), assignor.clone(), topics.clone());
        dispatch.reform(move |_| {
            Action::Do(SimAction::AddMember(GroupMemberSpec {
                group_id: (*group_id).clone(),
                topics: topics.clone(),
                assignor: Some((*assignor).clone()),
                auto_offset_reset: Some("earliest".to_owned()),
                session_timeout_ms: Some(10_000),
            }))
        })
    };
    let groups = state.view.snapshot.groups.iter().map(|group| {
        html! {
            <div class="group">
                <div class="group-title">
                    <strong>{ &group.group_id }</strong>
                    <span>{ format!("{} · generation {} · {} · coordinator broker {}", group.state, group.generation_id, if group.protocol.is_empty() { "-" } else { &group.protocol }, group.coordinator) }</span>
                </div>
                <table>
                    <thead><tr><th>{ "consumer" }</th><th>{ "gen" }</th><th>{ "partitions" }</th><th></th></tr></thead>
                    <tbody>
                    { for group.members.iter().map(|m| {
                        let client = m.client;
                        html! { <tr class={classes!((!m.stable).then_some("rebalancing"))}>
                            <td>{ client }</td><td>{ m.generation_id }</td>
                            <td>{ if m.stable { m.partitions.join(", ") } else { "(rebalancing)".to_owned() } }</td>
                            <td class="actions">
                                <button aria-label={format!("consumer {client} leaves the group")}
                                    onclick={dispatch.reform(move |_| Action::Do(SimAction::RemoveMember { client, graceful: true }))}>{ "Leave" }</button>
                                <button aria-label={format!("consumer {client} stops without leaving")}
                                    onclick={dispatch.reform(move |_| Action::Do(SimAction::RemoveMember { client, graceful: false }))}>{ "Kill" }</button>
                            </td></tr> }
                    }) }
                    </tbody>
                </table>
                <table class="offsets">
                    <thead><tr><th>{ "partition" }</th><th>{ "committed" }</th><th>{ "HW" }</th><th>{ "lag" }</th></tr></thead>
                    <tbody>
                    { for group.offsets.iter().map(|o| html! {
                        <tr><td>{ format!("{}-{}", o.topic, o.partition) }</td><td>{ o.committed }</td>
                            <td>{ o.high_watermark.map_or("-".to_owned(), |h| h.to_string()) }</td>
                            <td>{ o.lag.map_or("-".to_owned(), |l| l.to_string()) }</td></tr>
                    }) }
                    </tbody>
                </table>
            </div>
        }
    });
    html! {
        <section class="panel" aria-label="Consumer groups" id="groups">
            <h2>{ "Consumer groups" }</h2>
            <div class="row">
                <label>{ "group.id " }<input id="group-id" class="short" value={(*group_id).clone()} onchange={set_from(&group_id)} /></label>
                <label>{ "assignor " }<select id="assignor" onchange={set_from(&assignor)}>
                    { for ["range", "roundrobin", "cooperative-sticky"].iter().map(|a| html! { <option value={*a} selected={*assignor == *a}>{ a }</option> }) }
                </select></label>
                <button id="add-member" onclick={add}>{ "Add consumer" }</button>
            </div>
            if state.view.snapshot.groups.is_empty() { <p class="muted">{ "No consumer group yet." }</p> }
            { for groups }
        </section>
    }
}

#[function_component(EventLog)]
fn event_log(props: &Props) -> Html {
    let state = &props.state;
    let dispatch = &props.dispatch;
    let tone = |tone: Tone| match tone {
        Tone::Fault => "fault",
        Tone::Leader => "leader",
        Tone::Isr => "isr",
        Tone::Loss => "loss",
        Tone::Error => "error",
        Tone::Group => "group",
        Tone::Info => "info",
    };
    // One listener for every line's time button (event delegation: no closure per line).
    let on_click = {
        let dispatch = dispatch.clone();
        Callback::from(move |event: MouseEvent| {
            let at_ms = event
                .target_dyn_into::<web_sys::Element>()
                .and_then(|target| target.get_attribute("data-time"))
                .and_then(|time| time.parse().ok());
            if let Some(at_ms) = at_ms {
                dispatch.emit(Action::SeekTime(at_ms));
            }
        })
    };
    html! {
        <section class="panel" aria-label="Event log">
            <h2>{ "What happened" }</h2>
            <ol class="event-log" id="event-log" reversed=true onclick={on_click}>
                { for state.lines.iter().rev().take(LOG_LINES).map(|line| html! {
                    <li class={tone(line.tone)} key={line.index}>
                        <button class="time link" title="Go to this moment" data-time={line.time_ms.to_string()}>{ seconds(line.time_ms) }</button>
                        <span class="text">{ &line.text }</span>
                    </li>
                }) }
            </ol>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ScenariosProps {
    current: Option<&'static str>,
    dispatch: Dispatch,
}

#[function_component(Scenarios)]
fn scenarios_panel(props: &ScenariosProps) -> Html {
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
struct ConfigProps {
    spec: ClusterSpec,
    dispatch: Dispatch,
}

#[function_component(Config)]
fn config(props: &ConfigProps) -> Html {
    let dispatch = &props.dispatch;
    let spec = &props.spec;
    let topic = spec.topics.first();
    let brokers = use_state(|| spec.brokers.to_string());
    let partitions = use_state(|| topic.map_or(1, |t| t.partitions).to_string());
    let rf = use_state(|| topic.and_then(|t| t.replication_factor).unwrap_or(3).to_string());
    let min_isr = use_state(|| topic.map_or(1, |t| t.min_insync_replicas).to_string());
    let unclean = use_state(|| topic.is_some_and(|t| t.unclean_leader_election));
    let flush = use_state(|| spec.broker_configs.get("log.flush.interval.messages").cloned().unwrap_or_default());
    let seed = use_state(|| spec.seed.to_string());
    // A new run (a scenario, an import) brings its own config: show it.
    {
        let handles = (
            brokers.clone(),
            partitions.clone(),
            rf.clone(),
            min_isr.clone(),
            unclean.clone(),
            flush.clone(),
            seed.clone(),
        );
        use_effect_with(spec.clone(), move |spec| {
            let (brokers, partitions, rf, min_isr, unclean, flush, seed) = handles;
            let topic = spec.topics.first();
            brokers.set(spec.brokers.to_string());
            partitions.set(topic.map_or(1, |t| t.partitions).to_string());
            rf.set(topic.and_then(|t| t.replication_factor).unwrap_or(3).to_string());
            min_isr.set(topic.map_or(1, |t| t.min_insync_replicas).to_string());
            unclean.set(topic.is_some_and(|t| t.unclean_leader_election));
            flush.set(spec.broker_configs.get("log.flush.interval.messages").cloned().unwrap_or_default());
            seed.set(spec.seed.to_string());
            || ()
        });
    }
    let apply = |keep: bool| {
        let base = spec.clone();
        let (brokers, partitions, rf, min_isr, unclean, flush, seed) = (
            brokers.clone(),
            partitions.clone(),
            rf.clone(),
            min_isr.clone(),
            unclean.clone(),
            flush.clone(),
            seed.clone(),
        );
        dispatch.reform(move |_| {
            let mut spec = base.clone();
            spec.brokers = brokers.parse().unwrap_or(-1);
            spec.seed = seed.parse().unwrap_or(0);
            if spec.controller_host.is_some_and(|host| host > spec.brokers) {
                spec.controller_host = None;
            }
            if let Some(topic) = spec.topics.first_mut() {
                topic.partitions = partitions.parse().unwrap_or(-1);
                topic.replication_factor = Some(rf.parse().unwrap_or(-1));
                topic.min_insync_replicas = min_isr.parse().unwrap_or(-1);
                topic.unclean_leader_election = *unclean;
                topic.assignment = None;
            }
            if flush.is_empty() {
                spec.broker_configs.remove("log.flush.interval.messages");
            } else {
                spec.broker_configs.insert("log.flush.interval.messages".to_owned(), (*flush).clone());
            }
            Action::Configure(spec, keep)
        })
    };
    let number = |id: &'static str, label: &'static str, handle: &UseStateHandle<String>| {
        let setter = handle.clone();
        html! { <label>{ label }<input id={id} type="number" value={(**handle).clone()}
        onchange={Callback::from(move |e: Event| setter.set(input_value(&e)))} /></label> }
    };
    let unclean_toggle = {
        let unclean = unclean.clone();
        Callback::from(move |e: Event| unclean.set(e.target_unchecked_into::<HtmlInputElement>().checked()))
    };
    let flush_set = {
        let flush = flush.clone();
        Callback::from(move |e: Event| flush.set(select_value(&e)))
    };
    html! {
        <section class="panel" aria-label="Configuration" id="config">
            <h2>{ "Configuration" }</h2>
            <p class="muted">{ format!("Applies to the first topic ({}). Kafka's names and defaults.", topic.map_or("-", |t| t.name.as_str())) }</p>
            <div class="form-grid">
                { number("cfg-brokers", "brokers", &brokers) }
                { number("cfg-partitions", "partitions", &partitions) }
                { number("cfg-rf", "replication.factor", &rf) }
                { number("cfg-min-isr", "min.insync.replicas", &min_isr) }
                { number("cfg-seed", "seed", &seed) }
                <label>{ "log.flush.interval.messages" }
                    <select id="cfg-flush" onchange={flush_set}>
                        <option value="" selected={flush.is_empty()}>{ "default (OS page cache)" }</option>
                        <option value="1" selected={*flush == "1"}>{ "1 (fsync every record)" }</option>
                    </select></label>
                <label class="check"><input id="cfg-unclean" type="checkbox" checked={*unclean} onchange={unclean_toggle} />
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
struct CompareProps {
    compare: Option<Rc<Comparison>>,
    dispatch: Dispatch,
}

#[function_component(Compare)]
fn compare(props: &CompareProps) -> Html {
    let dispatch = &props.dispatch;
    let variations = [
        (
            "compare-acks-all",
            "acks=all + min.insync.replicas=2",
            Variation { acks: Some(-1), min_insync_replicas: Some(2), unclean: None },
        ),
        ("compare-acks-1", "acks=1", Variation { acks: Some(1), min_insync_replicas: None, unclean: None }),
        (
            "compare-unclean",
            "unclean election on",
            Variation { acks: None, min_insync_replicas: None, unclean: Some(true) },
        ),
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
                { for variations.into_iter().map(|(id, label, variation)| html! {
                    <button id={id} onclick={dispatch.reform(move |_| Action::Compare(variation.clone()))}>{ format!("vs {label}") }</button>
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

#[function_component(Share)]
fn share(props: &Props) -> Html {
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
            let href =
                format!("data:application/json;charset=utf-8,{}", String::from(js_sys::encode_uri_component(&json)));
            let document = gloo::utils::document();
            if let Ok(anchor) = document.create_element("a") {
                let _ = anchor.set_attribute("href", &href);
                let _ = anchor.set_attribute("download", "rill-run.json");
                if let Some(anchor) = wasm_bindgen::JsCast::dyn_ref::<web_sys::HtmlElement>(&anchor) {
                    anchor.click();
                }
            }
            exported.set(json);
        })
    };
    let on_import = {
        let import = import.clone();
        dispatch.reform(move |_| {
            let text = import.cast::<HtmlTextAreaElement>().map(|t| t.value()).unwrap_or_default();
            match serde_json::from_str(&text) {
                Ok(recording) => Action::Load(recording, None),
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
            </div>
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
