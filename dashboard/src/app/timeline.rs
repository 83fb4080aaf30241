//! The header (seed, time, events, trace hash) and the timeline: play, pause, step, speed, scrub.

use super::*;

#[function_component(Header)]
pub(super) fn header(props: &StateProps) -> Html {
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
pub(super) fn timeline(props: &Props) -> Html {
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
