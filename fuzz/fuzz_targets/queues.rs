#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shepherd_adapters::fuzzing::queues(data));
