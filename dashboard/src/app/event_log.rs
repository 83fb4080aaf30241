//! The event log in plain words; a time jumps the timeline there.

use super::*;

#[function_component(EventLog)]
pub(super) fn event_log(props: &Props) -> Html {
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
    // Filters: which kinds of line are shown (all at first).
    let hidden = use_state(Vec::<Tone>::new);
    let filters = [
        (Tone::Fault, "faults"),
        (Tone::Leader, "elections"),
        (Tone::Isr, "ISR"),
        (Tone::Loss, "losses"),
        (Tone::Error, "client errors"),
        (Tone::Group, "groups"),
        (Tone::Info, "other"),
    ];
    let toggle = |kind: Tone| {
        let hidden = hidden.clone();
        Callback::from(move |_: Event| {
            let mut next = (*hidden).clone();
            if let Some(at) = next.iter().position(|t| *t == kind) {
                next.remove(at);
            } else {
                next.push(kind);
            }
            hidden.set(next);
        })
    };
    html! {
        <section class="panel" aria-label="Event log">
            <h2>{ "What happened" }</h2>
            <div class="row filters" role="group" aria-label="Show in the event log">
                { for filters.iter().map(|(kind, label)| html! {
                    <label class={classes!("check", tone(*kind))}><input type="checkbox" id={format!("log-{}", tone(*kind))}
                        checked={!hidden.contains(kind)} onchange={toggle(*kind)} />{ *label }</label>
                }) }
            </div>
            if !state.pinned.is_empty() {
                <details class="pinned" id="pinned-events">
                    <summary>{ format!("{} earlier fault(s) and loss(es), pinned", state.pinned.len()) }</summary>
                    <ol class="event-log" onclick={on_click.clone()}>
                        { for state.pinned.iter().map(|line| html! {
                            <li class={tone(line.tone)} key={line.index}>
                                <button class="time link" title="Go to this moment" data-time={line.time_ms.to_string()}>{ seconds(line.time_ms) }</button>
                                <span class="text">{ &line.text }</span>
                            </li>
                        }) }
                    </ol>
                </details>
            }
            <ol class="event-log" id="event-log" reversed=true onclick={on_click}>
                { for state.lines.iter().rev().filter(|line| !hidden.contains(&line.tone)).take(LOG_LINES).map(|line| html! {
                    <li class={tone(line.tone)} key={line.index}>
                        <button class="time link" title="Go to this moment" data-time={line.time_ms.to_string()}>{ seconds(line.time_ms) }</button>
                        <span class="text">{ &line.text }
                            if line.repeats > 1 {
                                <span class="repeats" title={format!("the last at {}", seconds(line.last_ms))}>
                                    { format!(" ×{} (until {})", line.repeats, seconds(line.last_ms)) }</span>
                            }
                        </span>
                    </li>
                }) }
            </ol>
        </section>
    }
}
