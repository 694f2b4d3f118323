# Reference values for trialnb.sample_size from R rpact (getSampleSizeSurvival,
# getPowerSurvival, getSampleSizeRates). Fixed designs (kMax = 1), exponential survival.
#
#   Rscript tests/reference/rpact_sample_size.R [OUTPUT.json]
#
# One optional argument, the output path (default tests/reference/rpact_sample_size.json); run
# from the repository root; every input is written below. JSON via jsonlite, 15 significant
# digits. If any expected value is empty or NA the script stops with an error and writes
# nothing (a reference is never overwritten with empty results).
#
# rpact conventions used here (rpact 3.3.4 manual):
# * group 1 = treatment, group 2 = control; hazardRatio = lambda1 / lambda2;
#   allocationRatioPlanned = n1 / n2 (our allocation_ratio = n_treatment / n_control).
# * typeOfComputation = "Schoenfeld" (default) or "Freedman".
# * accrualTime = c(0, a) is uniform accrual over [0, a]; followUpTime = f gives the analysis
#   at a + f; the control hazard is given as lambda2 or as pi2 = P(event by eventTime).
# * dropoutRate1/2 = P(drop-out by dropoutTime), i.e. exponential drop-out hazard
#   -log(1 - rate) / dropoutTime.
# * getPowerSurvival with sided = 1 needs the direction: directionUpper = (hazardRatio > 1).
suppressPackageStartupMessages({library(rpact); library(jsonlite)})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/rpact_sample_size.R [OUTPUT.json]")
out <- if (length(args) == 1) args[1] else "tests/reference/rpact_sample_size.json"

# every field of every case must be one non-missing value
check_case <- function(x) {
  bad <- names(x)[vapply(x, function(v) length(v) != 1 || is.na(v), logical(1))]
  if (length(bad)) stop("empty or NA result(s) for case ", x$id, ": ", paste(bad, collapse = ", "),
                        "; nothing written")
  x
}

# ---- events and N: getSampleSizeSurvival --------------------------------------------
survival_cases <- list(
  # events only (time inputs are needed by rpact but do not change the events)
  list(id = "protocol_events", hr = 0.5, alpha = 0.05, power = 0.8, sided = 2, ratio = 1, method = "Schoenfeld"),
  list(id = "hr060_a05_p90", hr = 0.6, alpha = 0.05, power = 0.9, sided = 2, ratio = 1, method = "Schoenfeld"),
  list(id = "hr070_a05_p80", hr = 0.7, alpha = 0.05, power = 0.8, sided = 2, ratio = 1, method = "Schoenfeld"),
  list(id = "hr080_a01_p80", hr = 0.8, alpha = 0.01, power = 0.8, sided = 2, ratio = 1, method = "Schoenfeld"),
  list(id = "hr077_onesided", hr = 0.77, alpha = 0.05, power = 0.8, sided = 1, ratio = 1, method = "Schoenfeld"),
  list(id = "hr125_onesided_a025", hr = 1.25, alpha = 0.025, power = 0.85, sided = 1, ratio = 1, method = "Schoenfeld"),
  list(id = "hr050_ratio2", hr = 0.5, alpha = 0.05, power = 0.8, sided = 2, ratio = 2, method = "Schoenfeld"),
  list(id = "hr050_freedman", hr = 0.5, alpha = 0.05, power = 0.8, sided = 2, ratio = 1, method = "Freedman"),
  list(id = "hr070_freedman_ratio2", hr = 0.7, alpha = 0.05, power = 0.9, sided = 2, ratio = 2, method = "Freedman"),
  list(id = "hr070_freedman_ratio05", hr = 0.7, alpha = 0.05, power = 0.9, sided = 2, ratio = 0.5, method = "Freedman"),
  list(id = "hr077_freedman_onesided", hr = 0.77, alpha = 0.05, power = 0.8, sided = 1, ratio = 1, method = "Freedman"),
  # N with accrual and follow-up (months): the protocol's 36 + 24, lambda2 = 0.5 / 24
  list(id = "protocol_accrual36_fu24", hr = 0.5, alpha = 0.05, power = 0.8, sided = 2, ratio = 1, method = "Schoenfeld",
       lambda2 = 0.5 / 24, accrual = 36, followup = 24),
  # same control arm given as pi2 = P(death by 24 months)
  list(id = "protocol_pi2_eventtime24", hr = 0.5, alpha = 0.05, power = 0.8, sided = 2, ratio = 1, method = "Schoenfeld",
       pi2 = 1 - exp(-0.5), eventTime = 24, accrual = 36, followup = 24),
  list(id = "hr070_accrual24_fu12", hr = 0.7, alpha = 0.05, power = 0.9, sided = 2, ratio = 1, method = "Schoenfeld",
       lambda2 = log(2) / 20, accrual = 24, followup = 12),
  list(id = "protocol_dropout10_24", hr = 0.5, alpha = 0.05, power = 0.8, sided = 2, ratio = 1, method = "Schoenfeld",
       lambda2 = 0.5 / 24, accrual = 36, followup = 24, dropout = 0.10, dropoutTime = 24),
  list(id = "hr060_dropout5_12_ratio2", hr = 0.6, alpha = 0.05, power = 0.8, sided = 2, ratio = 2, method = "Schoenfeld",
       lambda2 = 0.03, accrual = 30, followup = 18, dropout = 0.05, dropoutTime = 12),
  list(id = "hr075_freedman_ratio15_accrual", hr = 0.75, alpha = 0.025, power = 0.8, sided = 1, ratio = 1.5,
       method = "Freedman", lambda2 = 0.02, accrual = 48, followup = 24),
  # nearly fixed follow-up: accrual of 0.001 months, 24 months follow-up (the protocol's Step 2)
  list(id = "protocol_nearly_fixed_fu24", hr = 0.5, alpha = 0.05, power = 0.8, sided = 2, ratio = 1, method = "Schoenfeld",
       lambda2 = 0.5 / 24, accrual = 0.001, followup = 24)
)

run_survival <- function(cs) {
  lambda2 <- if (is.null(cs$lambda2)) 0.5 / 24 else cs$lambda2
  accrual <- if (is.null(cs$accrual)) 36 else cs$accrual
  followup <- if (is.null(cs$followup)) 24 else cs$followup
  dropout <- if (is.null(cs$dropout)) 0 else cs$dropout
  dropoutTime <- if (is.null(cs$dropoutTime)) 12 else cs$dropoutTime
  design <- getDesignGroupSequential(kMax = 1, alpha = cs$alpha, beta = 1 - cs$power, sided = cs$sided)
  argsl <- list(design = design, hazardRatio = cs$hr, allocationRatioPlanned = cs$ratio,
                typeOfComputation = cs$method, accrualTime = c(0, accrual), followUpTime = followup,
                dropoutRate1 = dropout, dropoutRate2 = dropout, dropoutTime = dropoutTime)
  if (!is.null(cs$pi2)) {
    argsl$pi2 <- cs$pi2
    argsl$eventTime <- cs$eventTime
    control_hazard <- -log(1 - cs$pi2) / cs$eventTime
  } else {
    argsl$lambda2 <- lambda2
    control_hazard <- lambda2
  }
  x <- do.call(getSampleSizeSurvival, argsl)
  list(id = cs$id, hazard_ratio = cs$hr, alpha = cs$alpha, power = cs$power, sided = cs$sided,
       allocation_ratio = cs$ratio, method = tolower(cs$method), control_hazard = control_hazard,
       accrual_time = accrual, follow_up_time = followup,
       dropout_hazard = if (dropout > 0) -log(1 - dropout) / dropoutTime else 0,
       events = x$maxNumberOfEvents[1], n_total = x$maxNumberOfSubjects[1],
       n_treatment = x$nFixed1[1], n_control = x$nFixed2[1])
}

# ---- power for given events: getPowerSurvival -----------------------------------------
power_cases <- list(
  list(id = "protocol_66_hr050", events = 66, hr = 0.5, alpha = 0.05, sided = 2, ratio = 1),
  list(id = "protocol_66_hr066", events = 66, hr = 0.66, alpha = 0.05, sided = 2, ratio = 1),
  list(id = "protocol_66_hr093", events = 66, hr = 0.93, alpha = 0.05, sided = 2, ratio = 1),
  list(id = "protocol_66_hr104", events = 66, hr = 1.04, alpha = 0.05, sided = 2, ratio = 1),
  list(id = "protocol_66_hr1", events = 66, hr = 1, alpha = 0.05, sided = 2, ratio = 1),
  list(id = "e200_hr075_ratio2", events = 200, hr = 0.75, alpha = 0.05, sided = 2, ratio = 2),
  list(id = "e359_hr077_onesided", events = 359, hr = 0.77, alpha = 0.05, sided = 1, ratio = 1),
  list(id = "e120_hr070_freedman", events = 120, hr = 0.7, alpha = 0.05, sided = 2, ratio = 1, method = "Freedman"),
  list(id = "e150_hr080_freedman_ratio05", events = 150, hr = 0.8, alpha = 0.1, sided = 2, ratio = 0.5, method = "Freedman")
)

run_power <- function(cs) {
  method <- if (is.null(cs$method)) "Schoenfeld" else cs$method
  design <- getDesignGroupSequential(kMax = 1, alpha = cs$alpha, sided = cs$sided)
  argsl <- list(design = design, hazardRatio = cs$hr, maxNumberOfEvents = cs$events,
                maxNumberOfSubjects = 10 * cs$events, allocationRatioPlanned = cs$ratio,
                typeOfComputation = method, lambda2 = 0.5 / 24, accrualTime = c(0, 36))
  if (cs$sided == 1) argsl$directionUpper <- cs$hr > 1
  x <- do.call(getPowerSurvival, argsl)
  list(id = cs$id, events = cs$events, hazard_ratio = cs$hr, alpha = cs$alpha, sided = cs$sided,
       allocation_ratio = cs$ratio, method = tolower(method), power = x$overallReject[1])
}

# ---- two proportions: getSampleSizeRates (normal approximation) ---------------------
rates_cases <- list(
  list(id = "protocol_060_078", pc = 0.60, pt = 0.78, alpha = 0.05, power = 0.8, sided = 2, ratio = 1),
  list(id = "exact_0607_0779", pc = exp(-0.5), pt = exp(-0.25), alpha = 0.05, power = 0.8, sided = 2, ratio = 1),
  list(id = "ratio2", pc = 0.60, pt = 0.78, alpha = 0.05, power = 0.8, sided = 2, ratio = 2),
  list(id = "onesided_p90", pc = 0.60, pt = 0.70, alpha = 0.025, power = 0.9, sided = 1, ratio = 1)
)

run_rates <- function(cs) {
  design <- getDesignGroupSequential(kMax = 1, alpha = cs$alpha, beta = 1 - cs$power, sided = cs$sided)
  x <- getSampleSizeRates(design, pi1 = cs$pt, pi2 = cs$pc, allocationRatioPlanned = cs$ratio,
                          normalApproximation = TRUE)
  list(id = cs$id, control_proportion = cs$pc, treatment_proportion = cs$pt, alpha = cs$alpha,
       power = cs$power, sided = cs$sided, allocation_ratio = cs$ratio,
       n_total = x$nFixed[1], n_treatment = x$nFixed1[1], n_control = x$nFixed2[1])
}

res <- list(generator = "tests/reference/rpact_sample_size.R",
            rpact_version = as.character(packageVersion("rpact")),
            survival = lapply(survival_cases, function(cs) check_case(run_survival(cs))),
            power = lapply(power_cases, function(cs) check_case(run_power(cs))),
            rates = lapply(rates_cases, function(cs) check_case(run_rates(cs))))
writeLines(toJSON(res, auto_unbox = TRUE, digits = I(15), pretty = TRUE), out)
cat("wrote", out, "\n")
