-- How many of the features the paper assigns a trajectory agree with ours, of those it names
-- that we could order.
SELECT count(*) FILTER (WHERE agrees) AS agree, count(agrees) AS named
FROM integration_trajectories;
