// Go Kafka clients against any bootstrap address, for Rill's compatibility tests (the same
// steps run against Rill and Apache Kafka): franz-go with its default settings (snappy
// compression, idempotent acks=all producer) or one explicit codec, and Sarama.
//
// Usage: rill-go-clients CLIENT BOOTSTRAP STEP...
//
//	CLIENT: franz | sarama
//	produce:TOPIC:CODEC:FIRST:COUNT  records FIRST..FIRST+COUNT-1 (key CLIENT-i); CODEC default
//	                                 (the client's own default), none, gzip, snappy, lz4, zstd
//	group:TOPIC:GROUP:COUNT          consume COUNT records in consumer group GROUP and commit them
//
// Prints one line per fact ("produced T N", "consumed T G N", "record T KEY VALUE") and exits 1
// with the error when a step fails or times out.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

const stepTimeout = 60 * time.Second

func main() {
	if len(os.Args) < 3 {
		fail(fmt.Errorf("usage: rill-go-clients franz|sarama BOOTSTRAP STEP..."))
	}
	client, brokers := os.Args[1], strings.Split(os.Args[2], ",")
	for _, step := range os.Args[3:] {
		parts := strings.Split(step, ":")
		var err error
		switch {
		case len(parts) == 5 && parts[0] == "produce":
			first, _ := strconv.Atoi(parts[3])
			count, _ := strconv.Atoi(parts[4])
			switch client {
			case "franz":
				err = franzProduce(brokers, parts[1], parts[2], first, count)
			case "sarama":
				err = saramaProduce(brokers, parts[1], parts[2], first, count)
			}
		case len(parts) == 4 && parts[0] == "group":
			count, _ := strconv.Atoi(parts[3])
			switch client {
			case "franz":
				err = franzGroup(brokers, parts[1], parts[2], count)
			case "sarama":
				err = saramaGroup(brokers, parts[1], parts[2], count)
			}
		default:
			err = fmt.Errorf("unknown step %q", step)
		}
		if err != nil {
			fail(fmt.Errorf("%s %s: %w", client, step, err))
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}

// Value is what record i of a client holds (repetitive, so every codec has work to do).
func value(client, codec string, i int) string {
	return fmt.Sprintf("%s-%s-%d-%s", client, codec, i, strings.Repeat("compressible ", i%17))
}
