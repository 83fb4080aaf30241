// Kafka's Java client (kafka-clients 4.4, default settings unless a step says otherwise) doing
// the steps Rill's compatibility tests ask for, against any bootstrap address: the tests run
// the same steps against Rill and against Apache Kafka and expect the same output.
//
// Run: java -cp '.tools/kafka/libs/*' tests/kafka/ClientSteps.java BOOTSTRAP STEP...
// Steps (each prints what it did, one line per fact, so a test can compare outputs):
//   create:TOPIC:PARTITIONS:REPLICATION[:key=value,...]   AdminClient.createTopics
//   produce:TOPIC:CODEC:COUNT                             KafkaProducer, compression.type=CODEC
//   consume:TOPIC:COUNT                                   KafkaConsumer (assign, from the start):
//                                                         prints "record TOPIC KEY VALUE" lines
//   transactional:TOPIC                                   initTransactions, one record, commit:
//                                                         prints "transaction committed" or
//                                                         "transaction failed: EXCEPTION: MESSAGE"
//   group:TOPIC:GROUP:PROTOCOL:COUNT                      KafkaConsumer subscribed in GROUP with
//                                                         group.protocol=PROTOCOL (classic or
//                                                         consumer, KIP-848): consumes COUNT,
//                                                         commits, closes
//   rebalance:TOPIC:GROUP:PROTOCOL                        a second member joins a member that owns
//                                                         every partition: how many partitions the
//                                                         first revokes (classic: all, eagerly;
//                                                         consumer: only those that move)
// Exits non-zero, with the exception, when a step fails.
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class ClientSteps {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        for (int i = 1; i < args.length; i++) {
            String[] step = args[i].split(":");
            switch (step[0]) {
                case "create" -> create(bootstrap, step);
                case "produce" -> produce(bootstrap, step[1], step[2], Integer.parseInt(step[3]));
                case "consume" -> consume(bootstrap, step[1], Integer.parseInt(step[2]));
                case "transactional" -> transactional(bootstrap, step[1]);
                case "group" -> group(bootstrap, step[1], step[2], step[3], Integer.parseInt(step[4]));
                case "rebalance" -> rebalance(bootstrap, step[1], step[2], step[3]);
                default -> throw new IllegalArgumentException("unknown step " + args[i]);
            }
        }
    }

    static void create(String bootstrap, String[] step) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        NewTopic topic = new NewTopic(step[1], Integer.parseInt(step[2]), Short.parseShort(step[3]));
        if (step.length > 4) {
            Map<String, String> configs = new HashMap<>();
            for (String pair : step[4].split(",")) {
                String[] kv = pair.split("=", 2);
                configs.put(kv[0], kv[1]);
            }
            topic.configs(configs);
        }
        try (Admin admin = Admin.create(props)) {
            admin.createTopics(List.of(topic)).all().get();
        }
        System.out.println("created " + step[1]);
    }

    static void produce(String bootstrap, String topic, String codec, int count) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("compression.type", codec);
        props.put("linger.ms", "20");
        props.put("key.serializer", StringSerializer.class.getName());
        props.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, "java-" + i, value("java", codec, i))));
            }
            for (java.util.concurrent.Future<?> future : sent) {
                future.get();
            }
        }
        System.out.println("produced " + topic + " " + count);
    }

    static void transactional(String bootstrap, String topic) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("transactional.id", "rill-test-txn");
        props.put("key.serializer", StringSerializer.class.getName());
        props.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "txn", "committed"));
            producer.commitTransaction();
            System.out.println("transaction committed");
        } catch (Exception e) {
            System.out.println("transaction failed: " + e.getClass().getName() + ": " + e.getMessage());
        }
    }

    /// The value the tests expect for record `i` (repetitive, so every codec has work to do).
    static String value(String client, String codec, int i) {
        return client + "-" + codec + "-" + i + "-" + "compressible ".repeat(i % 17);
    }

    static void consume(String bootstrap, String topic, int count) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("key.deserializer", StringDeserializer.class.getName());
        props.put("value.deserializer", StringDeserializer.class.getName());
        props.put("enable.auto.commit", "false");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            int seen = 0;
            long deadline = System.currentTimeMillis() + 30_000;
            while (seen < count && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    System.out.println("record " + topic + " " + record.key() + " " + record.value());
                    seen++;
                }
            }
            System.out.println("consumed " + topic + " " + seen);
        }
    }

    static Properties groupProps(String bootstrap, String group, String protocol) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("group.id", group);
        props.put("group.protocol", protocol);
        props.put("auto.offset.reset", "earliest");
        props.put("enable.auto.commit", "false");
        props.put("key.deserializer", StringDeserializer.class.getName());
        props.put("value.deserializer", StringDeserializer.class.getName());
        return props;
    }

    static void group(String bootstrap, String topic, String group, String protocol, int count) {
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(groupProps(bootstrap, group, protocol));
        consumer.subscribe(List.of(topic));
        int seen = 0;
        long deadline = System.currentTimeMillis() + 60_000;
        while (seen < count && System.currentTimeMillis() < deadline) {
            seen += consumer.poll(Duration.ofMillis(500)).count();
        }
        consumer.commitSync();
        long committed = 0;
        for (OffsetAndMetadata offset : consumer.committed(consumer.assignment()).values()) {
            committed += offset == null ? 0 : offset.offset();
        }
        System.out.println("group " + protocol + " consumed " + seen);
        System.out.println("group " + protocol + " committed " + committed);
        long start = System.currentTimeMillis();
        consumer.close();
        System.out.println("group " + protocol + " closed within 1 s: " + (System.currentTimeMillis() - start < 1_000));
    }

    static void rebalance(String bootstrap, String topic, String group, String protocol) throws Exception {
        AtomicInteger revoked = new AtomicInteger();
        KafkaConsumer<String, String> first = new KafkaConsumer<>(groupProps(bootstrap, group, protocol));
        first.subscribe(List.of(topic), new ConsumerRebalanceListener() {
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                revoked.addAndGet(partitions.size());
            }

            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
        });
        int total = first.partitionsFor(topic, Duration.ofSeconds(30)).size();
        long deadline = System.currentTimeMillis() + 60_000;
        while (first.assignment().size() < total && System.currentTimeMillis() < deadline) {
            first.poll(Duration.ofMillis(200));
        }
        Set<TopicPartition> had = new HashSet<>(first.assignment());
        revoked.set(0);
        AtomicReference<Set<TopicPartition>> second = new AtomicReference<>(Set.of());
        AtomicBoolean stop = new AtomicBoolean();
        Thread joiner = new Thread(() -> {
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(groupProps(bootstrap, group, protocol))) {
                consumer.subscribe(List.of(topic));
                while (!stop.get()) {
                    consumer.poll(Duration.ofMillis(200));
                    second.set(new HashSet<>(consumer.assignment()));
                }
            }
        });
        joiner.start();
        deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            first.poll(Duration.ofMillis(200));
            Set<TopicPartition> mine = first.assignment();
            Set<TopicPartition> theirs = second.get();
            if (!mine.isEmpty() && !theirs.isEmpty() && mine.size() + theirs.size() == total) {
                break;
            }
        }
        Set<TopicPartition> kept = new HashSet<>(first.assignment());
        kept.retainAll(had);
        System.out.println("rebalance " + protocol + ": first member had " + had.size() + ", kept " + kept.size()
            + ", revoked " + revoked.get() + "; second member got " + second.get().size());
        stop.set(true);
        joiner.join();
        first.close();
    }
}
