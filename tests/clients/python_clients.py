"""Real Python Kafka clients against a Rill broker: confluent-kafka (librdkafka) and kafka-python.

Usage: python_clients.py BOOTSTRAP TOPIC CLIENT COUNT
  CLIENT = confluent | kafka-python
Produces COUNT keyed records (confluent: acks=all + enable.idempotence), consumes them with a
3-member consumer group that commits, and prints one JSON line with what happened. Exits 1 if a
record is missing, duplicated or a commit is wrong.
"""
import json
import sys
import time

bootstrap, topic, client, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sent = {f"key-{i}": f"{client}-value-{i}" for i in range(count)}
result = {"client": client, "sent": count}


def fail(why):
    result["error"] = why
    print(json.dumps(result))
    sys.exit(1)


if client == "confluent":
    from confluent_kafka import Consumer, Producer, TopicPartition

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5})
    errors = []
    for key, value in sent.items():
        producer.produce(topic, key=key, value=value, on_delivery=lambda err, msg: errors.append(str(err)) if err else None)
        producer.poll(0)
    left = producer.flush(30)
    if left or errors:
        fail(f"{left} undelivered, errors: {errors[:3]}")
    group = f"group-{client}"
    consumers = [
        Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "session.timeout.ms": 10000})
        for _ in range(3)
    ]
    for consumer in consumers:
        consumer.subscribe([topic])
    seen = {}
    owners = {}
    deadline = time.time() + 60
    while len(seen) < count and time.time() < deadline:
        for index, consumer in enumerate(consumers):
            msg = consumer.poll(0.05)
            if msg is None or msg.error():
                continue
            key = msg.key().decode() if msg.key() else ""
            consumer.commit(message=msg, asynchronous=False)
            if key not in sent:
                continue
            if msg.value().decode() != sent[key]:
                fail(f"{key} has value {msg.value()!r}")
            if key in seen and seen[key] != (msg.partition(), msg.offset()):
                fail(f"{key} consumed twice at different offsets")
            seen[key] = (msg.partition(), msg.offset())
            owners.setdefault(msg.partition(), set()).add(index)
    values_ok = len(seen) == count
    partitions = sorted({p for p, _ in seen.values()})
    committed = {}
    for consumer in consumers:
        assignment = consumer.assignment()
        if assignment:
            for tp in consumer.committed(assignment, timeout=10):
                committed[tp.partition] = tp.offset
    highest = {}
    for p, o in seen.values():
        highest[p] = max(highest.get(p, -1), o)
    result.update({"consumed": len(seen), "members_used": len({i for s in owners.values() for i in s}),
                   "committed": {str(p): o for p, o in sorted(committed.items())},
                   "expected_committed": {str(p): o + 1 for p, o in sorted(highest.items())}})
    for consumer in consumers:
        consumer.close()
    if not values_ok:
        fail(f"consumed {len(seen)} of {count}")
    if {p: o for p, o in committed.items()} != {p: o + 1 for p, o in highest.items()}:
        fail("committed offsets do not match what was consumed")
elif client == "confluent-load":
    # COUNT = seconds of steady acks=all load; prints every acknowledged (partition, offset, key).
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "linger.ms": 2, "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 200})
    acked = []
    failed = []

    def report(err, msg):
        if err:
            failed.append(str(err))
        else:
            acked.append([msg.partition(), msg.offset(), msg.key().decode(), round(time.time() * 1000)])

    end = time.time() + count
    sequence = 0
    while time.time() < end:
        try:
            producer.produce(topic, key=f"load-{sequence}", value=f"v{sequence}", on_delivery=report)
            sequence += 1
        except BufferError:
            pass
        producer.poll(0.001)
    producer.flush(60)
    result = {"client": client, "sent": sequence, "acked": acked, "failed": failed[:5], "failed_count": len(failed)}
elif client == "compacted-load":
    # COUNT = seconds of load on a compacted topic from two producers: idempotent acks=all writes
    # over 16 keys per partition ("k0".."k15", values "all-N"), whose every acknowledgement is
    # printed, and acks=1 writes without idempotence ("one-k0".., values "one-N") that keep many
    # requests in flight, so a paused leader finds a queue of them when it resumes.
    from confluent_kafka import Producer

    common = {"bootstrap.servers": bootstrap, "linger.ms": 2, "reconnect.backoff.ms": 50,
              "reconnect.backoff.max.ms": 200, "message.timeout.ms": 60000}
    safe = Producer({**common, "acks": "all", "enable.idempotence": True})
    loose = Producer({**common, "acks": "1", "enable.idempotence": False, "retries": 0,
                      "max.in.flight.requests.per.connection": 100})
    acked = []
    failed = []
    loose_acked = [0]

    def report(err, msg):
        if err:
            failed.append(str(err))
        else:
            acked.append([msg.partition(), msg.offset(), msg.key().decode(), msg.value().decode()])

    def report_loose(err, msg):
        if not err:
            loose_acked[0] += 1

    end = time.time() + count
    sequence = 0
    while time.time() < end:
        try:
            safe.produce(topic, key=f"k{sequence % 16}", value=f"all-{sequence}", on_delivery=report)
            loose.produce(topic, key=f"one-k{sequence % 16}", value=f"one-{sequence}", on_delivery=report_loose)
            sequence += 1
        except BufferError:
            pass
        safe.poll(0.002)
        loose.poll(0)
    safe.flush(90)
    loose.flush(90)
    result = {"client": client, "sent": sequence, "acked": acked, "acks_1_acked": loose_acked[0],
              "failed": failed[:5], "failed_count": len(failed)}
elif client == "confluent-admin":
    # The admin API: create, describe configs (topic and broker), list, delete.
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1,
                                                config={"retention.ms": "3600000"})]).values():
        future.result(30)
    topic_configs = admin.describe_configs([ConfigResource("TOPIC", topic)])
    configs = list(topic_configs.values())[0].result(30)
    broker_configs = list(admin.describe_configs([ConfigResource("BROKER", "1")]).values())[0].result(30)
    # The legacy AlterConfigs (librdkafka's alter_configs): the named values replace the
    # overrides, so retention.ms (set at creation) goes back to its default.
    for future in admin.alter_configs([ConfigResource("TOPIC", topic, set_config={"segment.ms": "3600000"})]).values():
        future.result(30)
    altered = list(admin.describe_configs([ConfigResource("TOPIC", topic)]).values())[0].result(30)
    listed = sorted(admin.list_topics(timeout=30).topics)
    for future in admin.delete_topics([topic]).values():
        future.result(30)
    after = sorted(admin.list_topics(timeout=30).topics)
    result.update({"retention.ms": configs["retention.ms"].value,
                   "min.insync.replicas": configs["min.insync.replicas"].value,
                   "broker.num.partitions": broker_configs["num.partitions"].value,
                   "altered.segment.ms": altered["segment.ms"].value,
                   "altered.retention.ms": altered["retention.ms"].value,
                   "listed": topic in listed, "listed_after_delete": topic in after})
elif client == "kafka-python":
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    futures = [producer.send(topic, key=k.encode(), value=v.encode()) for k, v in sent.items()]
    producer.flush(30)
    for future in futures:
        future.get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"group-{client}",
                             auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=10000)
    seen = {}
    deadline = time.time() + 60
    for msg in consumer:
        key = msg.key.decode()
        if key in sent:
            seen[key] = (msg.partition, msg.offset)
        consumer.commit()
        if len(seen) == count or time.time() > deadline:
            break
    committed = {p: consumer.committed(TopicPartition(topic, p)) for p in sorted({p for p, _ in seen.values()})}
    consumer.close()
    result.update({"consumed": len(seen), "committed": {str(p): o for p, o in committed.items()}})
    if len(seen) != count:
        fail(f"consumed {len(seen)} of {count}")
    if any(o is None or o <= 0 for o in committed.values()):
        fail("offsets were not committed")
else:
    fail(f"unknown client {client}")

print(json.dumps(result))
