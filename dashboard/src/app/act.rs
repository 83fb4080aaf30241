//! Acting on the cluster (produce, workloads, faults, links) and on consumer groups.

use super::*;

#[function_component(Act)]
pub(super) fn act(props: &Props) -> Html {
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
            let per_second = match crate::form::rate(&rate) {
                Ok(per_second) => per_second,
                Err(error) => return Action::Fail(error),
            };
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
    let now_ms = state.now_ms();
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
                <label>{ "records/s " }<input id="rate" class="short" type="text" inputmode="numeric" value={(*rate).clone()} onchange={set_from(&rate)} /></label>
                <button id="start-producer" onclick={start}>{ "Start producer" }</button>
            </div>
            if !state.view.snapshot.producers.is_empty() {
                <ul class="producers">
                    { for state.view.snapshot.producers.iter().map(|p| {
                        let client = p.client;
                        let running = state.view.workloads.iter().any(|w| w.0 == client && w.3 > 0);
                        let acks = if p.acks == -1 { "all".to_owned() } else { p.acks.to_string() };
                        let deadline = p.request_deadline_ms.map(|at| {
                            format!(" · oldest request times out in {} (request.timeout.ms)", seconds(at.saturating_sub(now_ms)))
                        });
                        let latency = p.ack_latency_ms.map(|ms| format!(" · last ack {ms} ms after send()")).unwrap_or_default();
                        html! { <li class="producer" id={format!("producer-{client}")}>
                            <strong>{ format!("producer {client} → {} (acks={acks})", p.topic) }</strong>
                            <span class="counts">{ format!(": {} sent · {} acknowledged · {} failed · {} retried · {} in flight · {} queued{latency}{}",
                                p.sent, p.acknowledged, p.failed, p.retried, p.in_flight, p.queued, deadline.unwrap_or_default()) }</span>
                            if running {
                                { " " }<button onclick={dispatch.reform(move |_| Action::Do(SimAction::StopProducer(client)))}>{ "Stop" }</button>
                            }
                        </li> }
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

#[function_component(Groups)]
pub(super) fn groups(props: &Props) -> Html {
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
                group_protocol: None,
            }))
        })
    };
    let now_ms = state.now_ms();
    let groups = state.view.snapshot.groups.iter().map(|group| {
        html! {
            <div class="group">
                <div class="group-title">
                    <strong>{ &group.group_id }</strong>
                    <span>{ format!("{} · generation {} · {} · coordinator broker {}", group.state, group.generation_id, if group.protocol.is_empty() { "-" } else { &group.protocol }, group.coordinator) }</span>
                </div>
                <table>
                    <thead><tr><th>{ "consumer" }</th><th>{ "gen" }</th><th>{ "partitions" }</th><th>{ "session" }</th><th></th></tr></thead>
                    <tbody>
                    { for group.members.iter().map(|m| {
                        let client = m.client;
                        let session = m.session_expires_ms.map_or_else(
                            || "-".to_owned(),
                            |at| format!("expires in {}", seconds(at.saturating_sub(now_ms))),
                        );
                        let partitions = if m.stopped || m.stable { m.partitions.join(", ") } else { "(rebalancing)".to_owned() };
                        html! { <tr id={format!("member-{client}")} class={classes!((!m.stable && !m.stopped).then_some("rebalancing"), m.stopped.then_some("stopped"))}>
                            <td>{ client }</td><td>{ m.generation_id }</td>
                            <td>{ partitions }</td>
                            <td class="session">{ if m.stopped { format!("stopped, no heartbeats: {session}") } else { session } }</td>
                            <td class="actions">
                                if !m.stopped {
                                    <button aria-label={format!("consumer {client} leaves the group")}
                                        onclick={dispatch.reform(move |_| Action::Do(SimAction::RemoveMember { client, graceful: true }))}>{ "Leave" }</button>
                                    <button aria-label={format!("consumer {client} stops without leaving")}
                                        onclick={dispatch.reform(move |_| Action::Do(SimAction::RemoveMember { client, graceful: false }))}>{ "Kill" }</button>
                                }
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
