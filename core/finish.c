/*
 * finish.c: the one way a run ends (finish.h).  Two callers, the plain report and
 * the dashboard, once finished their runs each their own way, and drifted: a
 * dashboard run on PostgreSQL claimed its schemas were kept.  Now what is kept is
 * the backend's to say, and every exit status is chosen here.
 */
#include "finish.h"

#include <stdio.h>

#include "report.h"

int run_finish(struct run *r, enum run_status st, const struct finish_opts *o)
{
	const struct run_config *cfg = run_config(r);
	struct report rep = { 0 };
	char result[256];
	int status, kept = run_site_kept(r);

	rep.cfg = cfg;
	rep.nresults = cfg->nstrategies;
	for (int i = 0; i < rep.nresults; i++) {
		rep.results[i] = run_result(r, i);
		if (rep.results[i]->paced)
			rep.paced = run_pace(r) > 0 ? run_pace(r) : 1;
	}
	rep.site = run_site_name(r);
	rep.kept = kept;
	rep.interrupted = o->interrupted || o->cut_short;
	rep.schedule = o->schedule;
	rep.trace = o->trace;
	rep.ntrace = o->ntrace;
	if ((o->schedule || o->trace_printed) && !o->cut_short &&
	    report_result(&rep, result, sizeof result) == 0)
		rep.result = result;
	if (o->quiet)
		goto status;
	if (o->trace_printed) {
		if (rep.result)
			fprintf(o->out, "result: %s\n", rep.result);
		fputc('\n', o->out);
	}
	if (o->json)
		report_json(o->out, &rep);
	else
		report_text(o->out, &rep);
	fflush(o->out);
status:
	status = report_status(&rep) ? EX_ANOMALY : 0;
	if (st == RUN_UNAVAILABLE) {
		fprintf(stderr, "racelab: the database was lost during the run: %s\n",
		        run_error(r) ? run_error(r) : "no reason given");
		status = EX_UNAVAILABLE;
	} else if (st == RUN_INTERNAL) {
		fprintf(stderr, "racelab: %s\n", run_error(r) ? run_error(r) : "internal error");
		status = EX_SOFTWARE;
	} else if (o->interrupted) {
		if (kept)
			fprintf(stderr, "racelab: interrupted; the databases are kept in %s\n",
			        run_site_name(r));
		else
			fprintf(stderr, "racelab: interrupted; the databases were cleaned up\n");
		status = EX_INTERRUPTED;
	}
	run_free(r);
	return status;
}
