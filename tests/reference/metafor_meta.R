# Reference values for trialnb.evidence.meta_analysis from R metafor (rma.uni): fixed-effect and
# random-effects meta-analyses (DerSimonian-Laird, REML, Paule-Mandel), with and without the
# Knapp-Hartung adjustment (test = "knha"), and the prediction interval (predict.rma).
#
#   Rscript tests/reference/metafor_meta.R [OUTPUT.json]
#
# One optional argument, the output path (default tests/reference/metafor_meta.json); run from
# the repository root; every input is written below. JSON via jsonlite, 15 significant digits.
# If any expected value is empty or NA the script stops with an error and writes nothing (a
# reference is never overwritten with empty results).
#
# Data sets (log hazard ratios yi and their standard errors sei):
# * rct_all (k = 5), at_diagnosis (k = 2), after_induction (k = 3, homogeneous: tau2 = 0 on the
#   boundary): the randomized trials of surgery of the primary in de novo metastatic breast
#   cancer, recovered here independently from the printed hazard ratios and intervals:
#   yi = log(HR), sei = (log(U) - log(L)) / (2 qnorm(0.5 + level / 2)); ABCSG-28's printed
#   "0.691 (0.358-1.333)" is read as no surgery vs surgery and inverted (see trialnb.evidence);
# * bcg (k = 13): metafor's classic BCG vaccine data (dat.bcg), log risk ratios by escalc;
# * homogeneous_k4 (k = 4) and homogeneous_k2 (k = 2): made-up estimates closer together than
#   their SEs, so that every random-effects estimator is on the tau2 = 0 boundary.
#
# metafor's own stopping rules are loose (REML change in tau2 below 1e-5, uniroot tolerance
# .Machine$double.eps^0.25 for Paule-Mandel); they are tightened here (threshold 1e-13, tol
# 1e-13) so that the reference is the exact estimate. For the fixed-effect model predict() gives
# no prediction interval: the confidence interval is recorded in its place (as trialnb does).
suppressPackageStartupMessages({library(metafor); library(jsonlite)})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/metafor_meta.R [OUTPUT.json]")
out <- if (length(args) == 1) args[1] else "tests/reference/metafor_meta.json"

from_ci <- function(hr, lo, hi, level) {
  list(yi = log(hr), sei = (log(hi) - log(lo)) / (2 * qnorm(0.5 + level / 2)))
}
trials <- list(
  tata2015 = from_ci(1.04, 0.81, 1.34, 0.95),
  mf0701_2018 = from_ci(0.66, 0.49, 0.88, 0.95),
  abcsg28 = from_ci(1 / 0.691, 1 / 1.333, 1 / 0.358, 0.95),
  e2108_2022 = from_ci(1.11, 0.82, 1.52, 0.90),
  jcog1017 = from_ci(0.86, 0.69, 1.07, 0.90)
)
pick <- function(keys) list(labels = keys, yi = unname(sapply(trials[keys], `[[`, "yi")),
                            sei = unname(sapply(trials[keys], `[[`, "sei")))
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
datasets <- list(
  rct_all = pick(c("tata2015", "mf0701_2018", "abcsg28", "e2108_2022", "jcog1017")),
  at_diagnosis = pick(c("mf0701_2018", "abcsg28")),
  after_induction = pick(c("tata2015", "e2108_2022", "jcog1017")),
  bcg = list(labels = paste(dat.bcg$author, dat.bcg$year), yi = as.numeric(bcg$yi), sei = sqrt(as.numeric(bcg$vi))),
  homogeneous_k4 = list(labels = c("a", "b", "c", "d"), yi = c(-0.10, -0.05, -0.12, -0.08),
                        sei = c(0.20, 0.25, 0.30, 0.15)),
  homogeneous_k2 = list(labels = c("a", "b"), yi = c(0.02, -0.03), sei = c(0.10, 0.12))
)

ctrl <- list(threshold = 1e-13, maxiter = 10000, tol = 1e-13)

# every field of every case must be one non-missing value (weights: k values)
check_case <- function(x) {
  bad <- names(x)[vapply(x, function(v) length(v) == 0 || any(is.na(v)), logical(1))]
  if (length(bad)) stop("empty or NA result(s) for case ", x$dataset, "/", x$method, "/", x$test, ": ",
                        paste(bad, collapse = ", "), "; nothing written")
  x
}

run <- function(name, method, test) {
  d <- datasets[[name]]
  fit <- rma(yi = d$yi, sei = d$sei, method = method, test = test, control = ctrl)
  p <- predict(fit)
  fe <- method == "FE"
  check_case(list(dataset = name, method = method, test = test, k = fit$k,
                  b = as.numeric(fit$b), se = fit$se, ci_lb = fit$ci.lb, ci_ub = fit$ci.ub,
                  statistic = fit$zval, pval = fit$pval, tau2 = fit$tau2, I2 = fit$I2, H2 = fit$H2,
                  QE = fit$QE, QEp = fit$QEp,
                  pi_lb = if (fe) p$ci.lb else p$pi.lb, pi_ub = if (fe) p$ci.ub else p$pi.ub,
                  weights = as.numeric(weights(fit))))
}

cases <- list()
for (name in names(datasets)) {
  cases[[length(cases) + 1]] <- run(name, "FE", "z")
  for (method in c("DL", "REML", "PM")) for (test in c("z", "knha")) {
    cases[[length(cases) + 1]] <- run(name, method, test)
  }
}

res <- list(generator = "tests/reference/metafor_meta.R",
            r_version = paste(R.version$major, R.version$minor, sep = "."),
            metafor_version = as.character(packageVersion("metafor")),
            datasets = datasets, cases = cases)
writeLines(toJSON(res, auto_unbox = TRUE, digits = I(15), pretty = TRUE), out)
