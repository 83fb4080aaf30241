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
