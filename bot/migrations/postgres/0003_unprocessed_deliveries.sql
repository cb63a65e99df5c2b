-- The delivery processor reads the oldest unprocessed deliveries in batches.
CREATE INDEX deliveries_unprocessed ON deliveries (processed_at, received_at);
