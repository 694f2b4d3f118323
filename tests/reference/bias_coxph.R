# Reference values for trialnb.bias from R's survival package (independent implementation).
#
#   Rscript tests/reference/bias_coxph.R [OUTPUT.json]   (inputs: the committed bias_coxph.json)
#
# Reads the registry stored under "inputs" (simulate_registry(300, 5), all mechanisms at their
# defaults: time, event, surgery, surgery_month (NA = not operated) and the adjusted model's
# design columns) and fits, with coxph (Efron ties, eps 1e-12):
#   naive         Surv(time, event) ~ surgery
#   adjusted      Surv(time, event) ~ surgery + design columns
#   landmark      patients alive at 12 months, exposure = operated by month 12, time from month 12
#   time_varying  counting-process data built by tmerge(..., tdc(surgery_month)): surgery as a
#                 time-dependent covariate (unexposed until the operation)
# and writes coef and se of the surgery term for each, plus the inputs, as JSON.
# Run from the repository root.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/bias_coxph.R [OUTPUT.json]")
inp <- "tests/reference/bias_coxph.json"  # the inputs stored next to the script (written by the Python side)
out <- if (length(args) == 1) args[1] else inp
src <- fromJSON(inp, simplifyVector = TRUE)
d <- as.data.frame(src$inputs$registry)
d$surgery_month[is.na(d$surgery_month)] <- NA
X <- as.matrix(as.data.frame(src$inputs$design))
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
term <- function(fit, name) {
  list(coef = unname(coef(fit)[name]), se = unname(sqrt(diag(fit$var))[which(names(coef(fit)) == name)]))
}
res <- list()
res$naive <- term(coxph(Surv(time, event) ~ surgery, data = d, ties = "efron", control = ctl), "surgery")
res$adjusted <- term(coxph(Surv(d$time, d$event) ~ d$surgery + X, ties = "efron", control = ctl), "d$surgery")
lm <- 12
dl <- d[d$time > lm, ]
dl$exposed <- as.numeric(dl$surgery == 1 & !is.na(dl$surgery_month) & dl$surgery_month <= lm)
res$landmark <- term(coxph(Surv(time - lm, event) ~ exposed, data = dl, ties = "efron", control = ctl), "exposed")
d$id <- seq_len(nrow(d))
base <- tmerge(d[, c("id", "time", "event")], d[, c("id", "time", "event")], id = id,
               death = event(time, event))
op <- d[!is.na(d$surgery_month) & d$surgery == 1, c("id", "surgery_month")]
cp <- tmerge(base, op, id = id, surg = tdc(surgery_month))
cp$surg[is.na(cp$surg)] <- 0
res$time_varying <- term(coxph(Surv(tstart, tstop, death) ~ surg, data = cp, ties = "efron", control = ctl), "surg")
res$time_varying$rows <- nrow(cp)
vals <- unlist(res)
if (length(vals) == 0 || any(is.na(vals))) stop("empty or NA result(s), nothing written")
out_list <- list(
  generator = "tests/reference/bias_coxph.R",
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  survival_version = as.character(packageVersion("survival")),
  inputs = src$inputs,
  results = res
)
writeLines(toJSON(out_list, digits = I(15), auto_unbox = TRUE, pretty = FALSE, na = "null"), out)
