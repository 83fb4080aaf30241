"""librdkafka's in-memory mock cluster (from the confluent-kafka wheel), as a same-run reference
broker for throughput. Prints its bootstrap address, then runs until stdin closes.

Usage: mock_cluster.py [BROKERS]
"""
import ctypes
import glob
import os
import sys

import confluent_kafka

libs = glob.glob(os.path.join(os.path.dirname(confluent_kafka.__file__), "..", "confluent_kafka.libs", "librdkafka*.so*"))
lib = ctypes.CDLL(libs[0])
lib.rd_kafka_conf_new.restype = ctypes.c_void_p
lib.rd_kafka_new.restype = ctypes.c_void_p
lib.rd_kafka_new.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
lib.rd_kafka_mock_cluster_new.restype = ctypes.c_void_p
lib.rd_kafka_mock_cluster_new.argtypes = [ctypes.c_void_p, ctypes.c_int]
lib.rd_kafka_mock_cluster_bootstraps.restype = ctypes.c_char_p
lib.rd_kafka_mock_cluster_bootstraps.argtypes = [ctypes.c_void_p]

errstr = ctypes.create_string_buffer(512)
handle = lib.rd_kafka_new(0, lib.rd_kafka_conf_new(), errstr, 512)
if not handle:
    sys.exit(f"rd_kafka_new: {errstr.value.decode()}")
cluster = lib.rd_kafka_mock_cluster_new(handle, int(sys.argv[1]) if len(sys.argv) > 1 else 1)
print(lib.rd_kafka_mock_cluster_bootstraps(cluster).decode(), flush=True)
sys.stdin.read()
