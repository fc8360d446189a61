-- The papers' findings tested on our data, in the papers' order.
SELECT * FROM findings ORDER BY finding_order;
