-- Delete the rows of $partition_table whose partition, read from $partition_column (a window id
-- is '<family>:<key>', an early-warning window's 'arrival_days:<arrival day>/<key>'; a day or a
-- partition key is the key itself), is among $dropped: the
-- partitions its asset recorded that the calendar no longer has (lineage.drop_left_partitions).
DELETE FROM $partition_table
WHERE regexp_replace(CAST($partition_column AS VARCHAR), '^[a-z_]+:([0-9-]+/)?', '') IN (
    SELECT unnest($dropped::VARCHAR[])
);
