-- Whether the table $table (an allow-listed, quoted name) holds a row.
SELECT EXISTS (SELECT 1 FROM $table) AS filled;
