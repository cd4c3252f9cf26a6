/*
 * report.c: the exit status follows the invariants of the safe strategies only,
 * and the JSON report carries DESIGN.md's fields.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/report.h"
#include "../demos/demo.h"
#include "tap.h"

static char *json_of(const struct report *rep)
{
	static char buf[8192];
	FILE *f = fmemopen(buf, sizeof buf, "w");

	report_json(f, rep);
	fclose(f);
	return buf;
}

int main(void)
{
	struct run_config cfg = { .scenario = &demo_product, .db = NULL, .threads = 4, .ops = 250,
	                          .seed = 42 };
	struct run_result naive = { .strategy = &demo_product.strategies[0], .attempted = 1000,
	                            .committed = 1000, .checked = 1,
	                            .check = { .expected = 1000, .observed = 731,
	                                       .anomalies = 269 } };
	struct run_result atomic = { .strategy = &demo_product.strategies[1],
	                             .attempted = 1000, .committed = 1000, .checked = 1,
	                             .check = { .expected = 1000, .observed = 1000 } };
	struct report rep = { .cfg = &cfg, .results = { &naive, &atomic }, .nresults = 2 };
	const char *fields[] = { "\"racelab\": \"0.1.0\"", "\"scenario\": \"product\"",
	                         "\"backend\": \"sqlite\"", "\"threads\": 4",
	                         "\"ops_per_thread\": 250", "\"seed\": 42",
	                         "\"strategy\": \"naive\"", "\"attempted\": 1000",
	                         "\"committed\": 1000", "\"expected\": 1000",
	                         "\"observed\": 731", "\"anomalies\": 269", "\"retries\": 0",
	                         "\"lock_waits\": 0", "\"errors\": 0", "\"elapsed_s\":",
	                         "\"ops_per_s\":" };
	char *json;

	cfg.db = db_sqlite();
	is_int(report_status(&rep), 0, "anomalies in naive alone: exit 0 (they are the lesson)");
	atomic.check.observed = 999;
	atomic.check.anomalies = 1;
	is_int(report_status(&rep), 1, "one lost update in atomic: exit 1");
	atomic.check.anomalies = 0;
	atomic.check.observed = 1001;
	is_int(report_status(&rep), 1, "atomic holding more than it committed: exit 1");
	atomic.check.observed = 1000;
	atomic.checked = 0;
	is_int(report_status(&rep), 1, "a safe strategy that could not be checked: exit 1");
	atomic.checked = 1;

	json = json_of(&rep);
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		ok(strstr(json, fields[i]) != NULL, "the JSON report has %s", fields[i]);
	ok(strstr(json, "\"coupons\"") == NULL, "product entries have no coupon fields");

	cfg.scenario = &demo_coupon;
	naive.strategy = &demo_coupon.strategies[0];
	atomic.strategy = &demo_coupon.strategies[1];
	naive.check.extra[1] = 7;           /* coupon.extras: double_redeemed */
	naive.check.extra[2] = 175;         /* ... and discount_lost */
	json = json_of(&rep);
	ok(strstr(json, "\"double_redeemed\": 7") && strstr(json, "\"discount_lost\": 175") &&
	   strstr(json, "\"coupons\":"), "coupon entries add coupons, double_redeemed and"
	   " discount_lost");
	snprintf(naive.verdict, sizeof naive.verdict, "say \"hi\"\\ now");
	json = json_of(&rep);
	ok(strstr(json, "\"say \\\"hi\\\"\\\\ now\"") != NULL, "strings are escaped");
	return done_testing();
}
