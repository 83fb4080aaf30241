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
// Exits non-zero, with the exception, when a step fails.
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
}
