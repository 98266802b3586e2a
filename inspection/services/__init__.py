"""Every write of the inspection app, one module per sub-domain: first_articles (AS9102 reports), records
(in-process and final inspections), measurements (pass or fail of one value, shared by both), gauges (and their
calibrations), nonconformances, plans (balloon lists)."""
