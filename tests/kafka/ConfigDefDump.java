// Prints Apache Kafka's broker ConfigDef (from the jars on the classpath) as the TSV that
// broker/src/kafka_broker_configs.tsv holds: name, type, default, validator, importance.
// Run: java -cp '.tools/kafka/libs/*' tests/kafka/ConfigDefDump.java > broker/src/kafka_broker_configs.tsv
// (broker tests compare the checked-in file with this program's output).
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.config.ConfigDef;

public class ConfigDefDump {
    public static void main(String[] args) throws Exception {
        ConfigDef def = (ConfigDef) Class.forName("org.apache.kafka.server.config.AbstractKafkaConfig")
            .getField("CONFIG_DEF").get(null);
        System.out.println("# Apache Kafka " + org.apache.kafka.common.utils.internals.AppInfoParser.getVersion()
            + " broker configs (tests/kafka/ConfigDefDump.java): name, type, default, validator, importance");
        Map<String, ConfigDef.ConfigKey> keys = new TreeMap<>(def.configKeys());
        for (ConfigDef.ConfigKey key : keys.values()) {
            String dflt = key.defaultValue == ConfigDef.NO_DEFAULT_VALUE ? "<required>"
                : key.defaultValue == null ? "<null>" : ConfigDef.convertToString(key.defaultValue, key.type);
            System.out.println(String.join("\t", key.name, key.type.name(), clean(dflt),
                clean(validator(key.validator)), key.importance.name()));
        }
    }

    static String clean(String text) {
        return text.replace('\t', ' ').replace('\n', ' ');
    }

    static Object field(Object owner, String name) throws Exception {
        Class<?> type = owner.getClass();
        while (type != null) {
            try {
                Field field = type.getDeclaredField(name);
                field.setAccessible(true);
                return field.get(owner);
            } catch (NoSuchFieldException e) {
                type = type.getSuperclass();
            }
        }
        throw new NoSuchFieldException(name);
    }

    // A validator in a form Rill parses: range:MIN:MAX (either may be empty), in:a|b|c,
    // list-in:a|b|c, or other:<Kafka's description> (checked by type only).
    static String validator(ConfigDef.Validator validator) throws Exception {
        if (validator == null) return "";
        if (validator instanceof ConfigDef.Range) {
            Object min = field(validator, "min"), max = field(validator, "max");
            return "range:" + (min == null ? "" : min) + ":" + (max == null ? "" : max);
        }
        if (validator instanceof ConfigDef.ValidString) {
            return "in:" + String.join("|", (List<String>) field(validator, "validStrings"));
        }
        if (validator instanceof ConfigDef.CaseInsensitiveValidString) {
            List<String> valid = new ArrayList<>();
            for (Object value : (Iterable<?>) field(validator, "validStrings")) valid.add(value.toString());
            return "in-any-case:" + String.join("|", valid);
        }
        if (validator instanceof ConfigDef.ValidList) {
            Object inner = field(validator, "validString");
            return "list-in:" + String.join("|", (List<String>) field(inner, "validStrings"));
        }
        return "other:" + validator.toString();
    }
}
