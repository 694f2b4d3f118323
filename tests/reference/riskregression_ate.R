# Reference values for trialnb.analysis.standardized from R riskRegression (independent implementation).
#
#   Rscript tests/reference/riskregression_ate.R [OUTPUT.json]
#
# One optional argument, the output path (default tests/reference/riskregression_ate.json); run
# from the repository root; the inputs are the committed files data/trial_*.csv. If any expected
# value is empty or NA the script stops with an error and writes nothing.
#
# The estimand's summary measure of the plan (trialnb.plan.PLAN.analysis): two-year survival per
# arm, standardized over the trial's own patients (G-computation) from the Cox model of the
# primary analysis -- death within 24 months (follow-up censored at PRIMARY_CENSOR_MONTHS),
# coxph(Surv(os_months, death) ~ arm + dominant_site + hormone_receptor + her2, ties = "efron"),
# reference levels arm B, bone, receptor positive, HER2 negative, converged tightly (eps 1e-10).
#
# For each shipped trial file data/trial_<scenario>.csv:
#   - "shipped": riskRegression::ate(fit, treatment = "arm", times = 24, se = TRUE) on the data
#     as shipped: the standardized risk (1 - survival) of each arm with its SE, the difference
#     (risk A - risk B = -(survival A - survival B)) and the risk ratio with their SEs; the
#     survival ratio (S_A / S_B) and the SE of its log, from ate's own influence functions
#     (iid of the survival = -iid of the risk; delta method on the log); the count of tied death
#     times (riskRegression's influence function of the Cox coefficients counts one death per
#     distinct time, so with ties its SE differs slightly from the exact one of the Efron fit);
#   - "ties_broken": the same after breaking every tie among death times deterministically (the
#     k-th death of a tied group in file order, k = 0, 1, ..., moved k * TIE_STEP months later),
#     so that no tie-handling convention can differ: here every number must agree exactly;
#   - "robust_se": sqrt(diag(var)) of coxph(..., robust = TRUE) on the shipped data: the sandwich
#     variance from R survival's dfbeta residuals, which checks the influence function of the
#     Cox coefficients on its own.
# Writes JSON (jsonlite, 15 significant digits). Run from the repository root.
suppressPackageStartupMessages({library(survival); library(riskRegression); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/riskregression_ate.R [OUTPUT.json]")
out <- if (length(args) == 1) args[1] else "tests/reference/riskregression_ate.json"
data_dir <- "data"
PRIMARY_CENSOR_MONTHS <- 24  # trialnb.plan.PLAN.analysis.censor_months
TIE_STEP <- 0.001            # months; the data are recorded to 0.01 month

censor_at <- function(d, months) {
  late <- d$os_months > months
  d$death[late] <- 0
  d$os_months[late] <- months
  d
}

break_ties <- function(d) {
  dead <- which(d$death == 1)
  k <- ave(seq_along(dead), d$os_months[dead], FUN = seq_along) - 1
  d$os_months[dead] <- d$os_months[dead] + k * TIE_STEP
  d
}

prepare <- function(d) {
  d$arm <- factor(d$arm, levels = c("B", "A"))
  d$dominant_site <- factor(d$dominant_site, levels = c("bone", "soft_tissue", "visceral"))
  d$hormone_receptor <- factor(d$hormone_receptor, levels = c("positive", "negative"))
  d$her2 <- factor(d$her2, levels = c("negative", "positive"))
  d
}

fit_model <- function(d, robust = FALSE) {
  coxph(Surv(os_months, death) ~ arm + dominant_site + hormone_receptor + her2, data = d, ties = "efron",
        x = TRUE, y = TRUE, robust = robust, control = coxph.control(eps = 1e-10, iter.max = 100))
}

standardized <- function(d) {
  fit <- fit_model(d)
  a <- ate(fit, data = d, treatment = "arm", times = PRIMARY_CENSOR_MONTHS, se = TRUE, verbose = FALSE)
  mr <- as.data.frame(a$meanRisk)
  dr <- as.data.frame(a$diffRisk)
  rr <- as.data.frame(a$ratioRisk)
  risk <- setNames(mr$estimate, as.character(mr$treatment))
  se <- setNames(mr$se, as.character(mr$treatment))
  sa <- 1 - risk[["A"]]
  sb <- 1 - risk[["B"]]
  iid_sa <- -a$iid$GFORMULA$A[, 1]
  iid_sb <- -a$iid$GFORMULA$B[, 1]
  ev <- d$os_months[d$death == 1]
  list(n = nrow(d), events = sum(d$death), tied_death_times = sum(duplicated(ev)),
       coef_arm = unname(coef(fit)[1]),
       risk = list(A = risk[["A"]], B = risk[["B"]]), risk_se = list(A = se[["A"]], B = se[["B"]]),
       survival = list(A = sa, B = sb),
       risk_difference = list(contrast = paste0("risk ", dr$B, " - risk ", dr$A), estimate = dr$estimate, se = dr$se),
       risk_ratio = list(contrast = paste0("risk ", rr$B, " / risk ", rr$A), estimate = rr$estimate, se = rr$se),
       survival_ratio = list(estimate = sa / sb, log_se = sqrt(sum((iid_sa / sa - iid_sb / sb)^2))))
}

one <- function(path) {
  d <- prepare(censor_at(read.csv(path, stringsAsFactors = FALSE, na.strings = ""), PRIMARY_CENSOR_MONTHS))
  robust <- fit_model(d, robust = TRUE)
  terms <- c("arm_A", "dominant_site_soft_tissue", "dominant_site_visceral",
             "hormone_receptor_negative", "her2_positive")
  list(file = basename(path), shipped = standardized(d), ties_broken = standardized(break_ties(d)),
       robust_se = as.list(setNames(unname(sqrt(diag(robust$var))), terms)))
}

files <- sort(Sys.glob(file.path(data_dir, "trial_*.csv")))
if (length(files) == 0) stop("no data/trial_*.csv found (run from the repository root); nothing written")
res <- list(software = paste0("R ", R.version$major, ".", R.version$minor, ", survival ",
                              as.character(packageVersion("survival")), ", riskRegression ",
                              as.character(packageVersion("riskRegression"))),
            primary_censor_months = PRIMARY_CENSOR_MONTHS, tie_step_months = TIE_STEP,
            results = setNames(lapply(files, function(f) tryCatch(one(f), error = function(e)
              stop("no result for ", f, " (", conditionMessage(e), "); nothing written", call. = FALSE))),
              sub("\\.csv$", "", basename(files))))
vals <- unlist(res$results)
if (length(vals) == 0 || any(is.na(vals)) || any(!nzchar(vals)))
  stop("empty or NA result(s), nothing written: ", paste(head(names(vals)[is.na(vals) | !nzchar(vals)]), collapse = ", "))
writeLines(toJSON(res, auto_unbox = TRUE, digits = I(15), pretty = TRUE), out)
