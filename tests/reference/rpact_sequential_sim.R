# Reference values for trialnb.simulation.sequential (its comparison path) from R rpact getSimulationSurvival: simulated
# group-sequential survival trials stopped at the first boundary crossed.
#
#   Rscript tests/reference/rpact_sequential_sim.R [OUTPUT.json]
#
# Run from the repository root. Writes JSON (jsonlite, 15 significant digits), default
# tests/reference/rpact_sequential_sim.json. Stops without writing when a value is NA.
#
# The protocol's design: 236 patients, uniform accrual over 36 months, exponential control
# survival with 2-year survival exp(-0.5) (lambda2 = 0.5 / 24 per month), no drop-out,
# hazard ratio (treatment / control) 0.5, looks at 33 and 66 deaths, Lan-DeMets
# O'Brien-Fleming alpha spending (asOF), one-sided alpha 0.025. rpact conventions: group 1 =
# treatment, directionUpper = FALSE because benefit means hazard ratio < 1. The simulated
# trial obeys a futility bound when one is given (non-binding: it does not change the
# efficacy bounds). rpact's analysisTime per stage is the mean over the simulated trials that
# reached that stage.
suppressPackageStartupMessages({library(rpact); library(jsonlite)})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/rpact_sequential_sim.R [OUTPUT.json]")
out <- if (length(args) >= 1) args[1] else "tests/reference/rpact_sequential_sim.json"

iterations <- 20000L
cases <- list(
  list(id = "asOF_33_66_hr050", hr = 0.5, events = c(33, 66), futility = NULL, seed = 2026),
  list(id = "asOF_33_66_hr100", hr = 1.0, events = c(33, 66), futility = NULL, seed = 2027),
  list(id = "asOF_33_66_futility05_hr050", hr = 0.5, events = c(33, 66), futility = c(0.5), seed = 2028),
  list(id = "asOF_33_66_futility05_hr100", hr = 1.0, events = c(33, 66), futility = c(0.5), seed = 2029),
  list(id = "asOF_22_44_66_hr070", hr = 0.7, events = c(22, 44, 66), futility = NULL, seed = 2030)
)

results <- list()
for (cs in cases) {
  k <- length(cs$events)
  rates <- cs$events / cs$events[k]
  d <- if (is.null(cs$futility)) {
    getDesignGroupSequential(kMax = k, alpha = 0.025, sided = 1, typeOfDesign = "asOF",
                             informationRates = rates)
  } else {
    getDesignGroupSequential(kMax = k, alpha = 0.025, sided = 1, typeOfDesign = "asOF",
                             informationRates = rates, futilityBounds = cs$futility,
                             bindingFutility = FALSE)
  }
  s <- getSimulationSurvival(design = d, lambda2 = 0.5 / 24, hazardRatio = cs$hr,
                             directionUpper = FALSE, accrualTime = c(0, 36),
                             maxNumberOfSubjects = 236, plannedEvents = cs$events,
                             maxNumberOfIterations = iterations, seed = cs$seed)
  res <- list(
    id = cs$id, hazard_ratio = cs$hr, planned_events = cs$events, information_rates = rates,
    critical_values = d$criticalValues,
    futility_bounds = if (is.null(cs$futility)) NULL else I(cs$futility),
    seed = cs$seed, iterations = iterations,
    overall_reject = s$overallReject,
    reject_per_stage = as.numeric(s$rejectPerStage),
    futility_per_stage = if (is.null(cs$futility)) NULL else I(as.numeric(s$futilityPerStage)),
    expected_events = s$expectedNumberOfEvents,
    analysis_time = as.numeric(s$analysisTime)
  )
  vals <- unlist(res[c("overall_reject", "reject_per_stage", "expected_events", "analysis_time",
                       "critical_values")])
  if (length(vals) == 0 || any(is.na(vals))) stop(sprintf("case %s: empty or NA result", cs$id))
  results[[length(results) + 1]] <- res
}

doc <- list(
  generator = "tests/reference/rpact_sequential_sim.R",
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  rpact_version = as.character(packageVersion("rpact")),
  design = list(n_patients = 236, accrual_months = 36, control_hazard = 0.5 / 24,
                alpha = 0.025, sided = 1, type_of_design = "asOF", dropout = 0),
  cases = results
)
writeLines(toJSON(doc, digits = I(15), auto_unbox = TRUE, pretty = TRUE, null = "null"), out)
