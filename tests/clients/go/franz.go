package main

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

func franzCodec(name string) ([]kgo.Opt, error) {
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	if name == "default" {
		return nil, nil
	}
	codec, ok := codecs[name]
	if !ok {
		return nil, fmt.Errorf("unknown codec %q", name)
	}
	return []kgo.Opt{kgo.ProducerBatchCompression(codec)}, nil
}

func franzProduce(brokers []string, topic, codec string, first, count int) error {
	opts, err := franzCodec(codec)
	if err != nil {
		return err
	}
	client, err := kgo.NewClient(append(opts, kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	records := make([]*kgo.Record, count)
	for i := range records {
		records[i] = kgo.StringRecord(value("franz", codec, first+i))
		records[i].Key = []byte(fmt.Sprintf("franz-%d", first+i))
	}
	if err := client.ProduceSync(ctx, records...).FirstErr(); err != nil {
		return err
	}
	fmt.Printf("produced %s %d\n", topic, count)
	return nil
}

func franzGroup(brokers []string, topic, group string, count int) error {
	client, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
	)
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	seen := 0
	for seen < count {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("consumed %d of %d records before the timeout", seen, count)
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			return fmt.Errorf("fetch: %v", errs[0].Err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			fmt.Printf("record %s %s %s\n", r.Topic, r.Key, r.Value)
			seen++
		})
	}
	if err := client.CommitUncommittedOffsets(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	// Leave the group before the next step joins it (franz-go's Close does too).
	client.LeaveGroup()
	fmt.Printf("consumed %s %s %d\n", topic, group, seen)
	return nil
}
