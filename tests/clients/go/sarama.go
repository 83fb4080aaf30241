package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

func saramaConfig(codec string) (*sarama.Config, error) {
	config := sarama.NewConfig()
	config.Version = sarama.V3_0_0_0
	config.Producer.Return.Successes = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	codecs := map[string]sarama.CompressionCodec{
		"default": config.Producer.Compression, "none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP,
		"snappy": sarama.CompressionSnappy, "lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
	}
	compression, ok := codecs[codec]
	if !ok {
		return nil, fmt.Errorf("unknown codec %q", codec)
	}
	config.Producer.Compression = compression
	return config, nil
}

func saramaProduce(brokers []string, topic, codec string, first, count int) error {
	config, err := saramaConfig(codec)
	if err != nil {
		return err
	}
	producer, err := sarama.NewSyncProducer(brokers, config)
	if err != nil {
		return err
	}
	defer producer.Close()
	messages := make([]*sarama.ProducerMessage, count)
	for i := range messages {
		messages[i] = &sarama.ProducerMessage{
			Topic: topic,
			Key:   sarama.StringEncoder(fmt.Sprintf("sarama-%d", first+i)),
			Value: sarama.StringEncoder(value("sarama", codec, first+i)),
		}
	}
	if err := producer.SendMessages(messages); err != nil {
		return err
	}
	fmt.Printf("produced %s %d\n", topic, count)
	return nil
}

// handler prints records until want have been seen, marks each and commits them.
type handler struct {
	mu   sync.Mutex
	seen int
	want int
	done chan struct{}
	once sync.Once
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *handler) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for message := range claim.Messages() {
		h.mu.Lock()
		if h.seen >= h.want {
			h.mu.Unlock()
			return nil
		}
		fmt.Printf("record %s %s %s\n", message.Topic, message.Key, message.Value)
		session.MarkMessage(message, "")
		h.seen++
		if h.seen == h.want {
			// Auto-commit is off: commit what was marked, then let the step finish.
			session.Commit()
			h.once.Do(func() { close(h.done) })
		}
		h.mu.Unlock()
	}
	return nil
}

func saramaGroup(brokers []string, topic, group string, count int) error {
	config, err := saramaConfig("default")
	if err != nil {
		return err
	}
	config.Consumer.Offsets.AutoCommit.Enable = false
	consumer, err := sarama.NewConsumerGroup(brokers, group, config)
	if err != nil {
		return err
	}
	h := &handler{want: count, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := consumer.Consume(ctx, []string{topic}, h); err != nil {
				errs <- err
				return
			}
		}
	}()
	select {
	case <-h.done:
	case err := <-errs:
		cancel()
		return err
	case <-time.After(stepTimeout):
		cancel()
		return fmt.Errorf("consumed %d of %d records before the timeout", h.seen, count)
	}
	cancel()
	if err := consumer.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	fmt.Printf("consumed %s %s %d\n", topic, group, h.seen)
	return nil
}
