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

# every field of every case (its inputs apart) must be one non-missing value
check_case <- function(x) {
  vals <- x[names(x) != "inputs"]
  bad <- names(vals)[vapply(vals, function(v) length(v) != 1 || is.na(v), logical(1))]
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


# ---- solve for any one quantity (trialnb.sample_size.solve) ---------------------------
# Inputs in every form rpact takes: lambda2 / pi2 + eventTime / median2 for the control arm,
# hazardRatio / pi1 / median1 / lambda1 for the effect, accrualTime = c(0, a) or accrualTime = 0 with
# accrualIntensity (rpact then solves the end of accrual). No N inflation for loss (loss = 0).
solve_n_cases <- list(
  list(id = "n_medians", median2 = 32, median1 = 50, accrual = 36, followup = 24),
  list(id = "n_pi1_pi2", pi2 = 1 - exp(-0.5), pi1 = 1 - exp(-0.25), eventTime = 24, accrual = 36, followup = 24),
  list(id = "n_lambda1", lambda2 = 0.03, lambda1 = 0.02, accrual = 24, followup = 12, ratio = 2),
  list(id = "n_intensity5", lambda2 = 0.5 / 24, hr = 0.5, intensity = 5, followup = 24),
  list(id = "n_intensity8_freedman_dropout", lambda2 = log(2) / 20, hr = 0.7, intensity = 8, followup = 12,
       method = "Freedman", ratio = 2, dropout = 0.05, dropoutTime = 12, power = 0.9)
)

# the control arm and the effect as given, for rpact
arm_args <- function(cs) {
  a <- list()
  for (nm in c("lambda2", "pi2", "eventTime", "median2", "hr", "pi1", "median1", "lambda1")) {
    if (!is.null(cs[[nm]])) a[[if (nm == "hr") "hazardRatio" else nm]] <- cs[[nm]]
  }
  a
}

common_args <- function(cs, power_needed = TRUE) {
  alpha <- if (is.null(cs$alpha)) 0.05 else cs$alpha
  sided <- if (is.null(cs$sided)) 2 else cs$sided
  power <- if (is.null(cs$power)) 0.8 else cs$power
  design <- if (power_needed) getDesignGroupSequential(kMax = 1, alpha = alpha, beta = 1 - power, sided = sided)
            else getDesignGroupSequential(kMax = 1, alpha = alpha, sided = sided)
  dropout <- if (is.null(cs$dropout)) 0 else cs$dropout
  c(list(design = design, allocationRatioPlanned = if (is.null(cs$ratio)) 1 else cs$ratio,
         typeOfComputation = if (is.null(cs$method)) "Schoenfeld" else cs$method, followUpTime = cs$followup,
         dropoutRate1 = dropout, dropoutRate2 = dropout,
         dropoutTime = if (is.null(cs$dropoutTime)) 12 else cs$dropoutTime), arm_args(cs))
}

case_inputs <- function(cs) {
  keep <- c("lambda2", "pi2", "eventTime", "median2", "hr", "pi1", "median1", "lambda1", "accrual", "intensity",
            "followup", "method", "ratio", "dropout", "dropoutTime", "power", "alpha", "sided", "n", "events")
  out <- cs[intersect(names(cs), keep)]
  out$id <- NULL
  out
}

run_solve_n <- function(cs) {
  argsl <- common_args(cs)
  if (!is.null(cs$intensity)) {
    argsl$accrualTime <- 0
    argsl$accrualIntensity <- cs$intensity
  } else {
    argsl$accrualTime <- c(0, cs$accrual)
  }
  x <- do.call(getSampleSizeSurvival, argsl)
  list(id = cs$id, inputs = case_inputs(cs), events = x$maxNumberOfEvents[1], n_total = x$maxNumberOfSubjects[1],
       hazard_ratio = x$hazardRatio[1], lambda2 = x$lambda2[1],
       accrual_time = x$accrualTime[length(x$accrualTime)], analysis_time = x$analysisTime[1])
}

# power for a number of patients: rpact's event probability at the analysis gives the expected
# deaths (getEventProbabilities), getPowerSurvival their power and the month they are reached,
# which must be the analysis month a + f
solve_power_cases <- list(
  list(id = "power_n236_accrual36", lambda2 = 0.5 / 24, hr = 0.5, n = 236, accrual = 36, followup = 24),
  list(id = "power_n150_intensity5", lambda2 = 0.5 / 24, hr = 0.5, n = 150, intensity = 5, followup = 24),
  list(id = "power_n300_medians_freedman_ratio2", median2 = 30, median1 = 42, n = 300, accrual = 30, followup = 18,
       method = "Freedman", ratio = 2, dropout = 0.1, dropoutTime = 24),
  list(id = "power_n200_onesided", pi2 = 0.4, eventTime = 24, hr = 0.6, n = 200, accrual = 24, followup = 24,
       sided = 1, alpha = 0.025)
)

run_solve_power <- function(cs) {
  accrual <- if (!is.null(cs$intensity)) cs$n / cs$intensity else cs$accrual
  argsl <- common_args(cs, power_needed = FALSE)
  argsl$followUpTime <- NULL
  argsl$accrualTime <- c(0, accrual)
  argsl$maxNumberOfSubjects <- cs$n
  if (!is.null(cs$sided) && cs$sided == 1) argsl$directionUpper <- FALSE
  # the arms as rpact reads them (lambda2, hazardRatio), from a first call with any number of events
  x0 <- do.call(getPowerSurvival, c(argsl, list(maxNumberOfEvents = 1)))
  ep <- getEventProbabilities(time = accrual + cs$followup, accrualTime = c(0, accrual), lambda2 = x0$lambda2[1],
                              hazardRatio = x0$hazardRatio[1], allocationRatioPlanned = argsl$allocationRatioPlanned,
                              dropoutRate1 = argsl$dropoutRate1, dropoutRate2 = argsl$dropoutRate2,
                              dropoutTime = argsl$dropoutTime, maxNumberOfSubjects = cs$n)
  events <- cs$n * ep$overallEventProbabilities[1]
  x <- do.call(getPowerSurvival, c(argsl, list(maxNumberOfEvents = events)))
  list(id = cs$id, inputs = case_inputs(cs), events = events, power = x$overallReject[1],
       hazard_ratio = x$hazardRatio[1], accrual_time = accrual, analysis_time = x$analysisTime[1])
}

# the hazard ratio detected: the root of rpact's own deaths (or patients) needed = the deaths (or
# patients) given, found with uniroot on getSampleSizeSurvival
solve_hr_cases <- list(
  list(id = "hr_events66", events = 66, lambda2 = 0.5 / 24, accrual = 36, followup = 24),
  list(id = "hr_events120_freedman_ratio2", events = 120, lambda2 = 0.5 / 24, accrual = 36, followup = 24,
       method = "Freedman", ratio = 2, power = 0.9),
  list(id = "hr_n236_accrual36", n = 236, lambda2 = 0.5 / 24, accrual = 36, followup = 24),
  list(id = "hr_n180_intensity6_dropout", n = 180, median2 = 32, intensity = 6, followup = 18, dropout = 0.1,
       dropoutTime = 24),
  list(id = "hr_n400_freedman_onesided", n = 400, pi2 = 0.4, eventTime = 24, accrual = 30, followup = 24,
       method = "Freedman", sided = 1, alpha = 0.025, power = 0.9)
)

run_solve_hr <- function(cs) {
  accrual <- if (!is.null(cs$intensity)) cs$n / cs$intensity else cs$accrual
  argsl <- common_args(cs)
  argsl$accrualTime <- c(0, accrual)
  needed <- function(h) {
    a <- argsl
    a$hazardRatio <- h
    x <- do.call(getSampleSizeSurvival, a)
    if (is.null(cs$n)) x$maxNumberOfEvents[1] - cs$events else x$maxNumberOfSubjects[1] - cs$n
  }
  root <- uniroot(needed, c(0.05, 0.99), tol = 1e-14)$root
  a <- argsl
  a$hazardRatio <- root
  x <- do.call(getSampleSizeSurvival, a)
  list(id = cs$id, inputs = case_inputs(cs), hazard_ratio = root, events = x$maxNumberOfEvents[1],
       n_total = x$maxNumberOfSubjects[1], accrual_time = accrual)
}

res <- list(generator = "tests/reference/rpact_sample_size.R",
            rpact_version = as.character(packageVersion("rpact")),
            survival = lapply(survival_cases, function(cs) check_case(run_survival(cs))),
            power = lapply(power_cases, function(cs) check_case(run_power(cs))),
            rates = lapply(rates_cases, function(cs) check_case(run_rates(cs))),
            solve_n = lapply(solve_n_cases, function(cs) check_case(run_solve_n(cs))),
            solve_power = lapply(solve_power_cases, function(cs) check_case(run_solve_power(cs))),
            solve_hazard_ratio = lapply(solve_hr_cases, function(cs) check_case(run_solve_hr(cs))))
writeLines(toJSON(res, auto_unbox = TRUE, digits = I(15), pretty = TRUE), out)
cat("wrote", out, "\n")
