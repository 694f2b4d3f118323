# Reference values for trialnb.monitoring from R rpact (3.3.4): group-sequential designs
# (getDesignGroupSequential + getDesignCharacteristics), survival analyses
# (getAnalysisResults on getDataset(overallEvents, overallLogRanks, overallAllocationRatios),
# with maxInformation / informationEpsilon), conditional power (also at looks off the planned
# information, on the design recalculated with maxInformation), the survival sample size of a
# design (getSampleSizeSurvival(design, ...), for trialnb.sample_size.sequential_sample_size),
# and the power of a design held at a number of events (getPowerSurvival(design, hazardRatio =
# c(1, HR), ...): crossing probabilities, bounds on the hazard-ratio scale and analysis times
# under H0 and H1, for trialnb.monitoring.boundary_table and trialnb.monitoring.analysis_times).
#
#   Rscript tests/reference/rpact_monitoring.R [OUTPUT.json]
#
# Writes JSON (jsonlite, 15 significant digits; default tests/reference/rpact_monitoring.json).
# Run from the repository root. Stops and writes nothing when a value expected is NA.
#
# Notes on rpact used here:
# * The analyses are run with tolerance = 1e-10: rpact's default analysis tolerance (1e-6,
#   a bisection on the alpha level / the effect) limits repeated p-values, repeated and final
#   confidence intervals to about 1e-6; with 1e-10 they are accurate enough to compare to 1e-7.
#   (rpact does not pass the tolerance on when it recalculates the repeated p-values of an
#   over- or under-running final look; those are flagged "rp_tolerance_1e6" below.)
# * logRanks have the sign of log(HR) (treatment vs control); directionUpper = FALSE tests
#   HR < 1. The design's z is oriented so that large values favour H1.
suppressPackageStartupMessages({library(rpact); library(jsonlite)})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 1) stop("usage: Rscript tests/reference/rpact_monitoring.R [OUTPUT.json]")
out <- if (length(args) >= 1) args[1] else "tests/reference/rpact_monitoring.json"

need <- function(x, what) {
  if (is.null(x) || length(x) == 0 || all(is.na(x))) stop("empty result for ", what, call. = FALSE)
  x
}
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

# ---- designs -------------------------------------------------------------------------
designs <- list(
  list(id = "OF_k2", kMax = 2, typeOfDesign = "OF"),
  list(id = "OF_k3", kMax = 3, typeOfDesign = "OF"),
  list(id = "OF_k5_unequal", kMax = 5, typeOfDesign = "OF", informationRates = c(0.15, 0.3, 0.55, 0.8, 1)),
  list(id = "P_k2", kMax = 2, typeOfDesign = "P"),
  list(id = "P_k4", kMax = 4, typeOfDesign = "P"),
  list(id = "P_k3_sided2", kMax = 3, typeOfDesign = "P", sided = 2, alpha = 0.05),
  list(id = "WT025_k3", kMax = 3, typeOfDesign = "WT", deltaWT = 0.25),
  list(id = "WT05_k4_unequal", kMax = 4, typeOfDesign = "WT", deltaWT = 0.5, informationRates = c(0.2, 0.5, 0.7, 1)),
  list(id = "WT025_k5_sided2", kMax = 5, typeOfDesign = "WT", deltaWT = 0.25, sided = 2, alpha = 0.05, beta = 0.1),
  list(id = "HP_k2", kMax = 2, typeOfDesign = "HP"),
  list(id = "HP_k4_unequal", kMax = 4, typeOfDesign = "HP", informationRates = c(0.25, 0.4, 0.8, 1)),
  list(id = "HP_k3_sided2", kMax = 3, typeOfDesign = "HP", sided = 2, alpha = 0.05),
  list(id = "asOF_k2_half", kMax = 2, typeOfDesign = "asOF", informationRates = c(0.5, 1)),
  list(id = "asOF_k3", kMax = 3, typeOfDesign = "asOF"),
  list(id = "asOF_k4_unequal", kMax = 4, typeOfDesign = "asOF", informationRates = c(0.2, 0.45, 0.7, 1)),
  list(id = "asOF_k5", kMax = 5, typeOfDesign = "asOF", alpha = 0.05, beta = 0.1),
  list(id = "asOF_k3_sided2", kMax = 3, typeOfDesign = "asOF", sided = 2, alpha = 0.05),
  list(id = "asP_k2", kMax = 2, typeOfDesign = "asP"),
  list(id = "asP_k4_sided2", kMax = 4, typeOfDesign = "asP", sided = 2, alpha = 0.05),
  list(id = "asP_k5_unequal", kMax = 5, typeOfDesign = "asP", informationRates = c(0.1, 0.3, 0.5, 0.75, 1)),
  list(id = "asKD1_k3", kMax = 3, typeOfDesign = "asKD", gammaA = 1),
  list(id = "asKD3_k4_sided2", kMax = 4, typeOfDesign = "asKD", gammaA = 3, sided = 2, alpha = 0.05),
  list(id = "asHSDm4_k3", kMax = 3, typeOfDesign = "asHSD", gammaA = -4),
  list(id = "asHSD1_k5_unequal", kMax = 5, typeOfDesign = "asHSD", gammaA = 1, informationRates = c(0.2, 0.35, 0.6, 0.85, 1)),
  list(id = "asHSD0_k2", kMax = 2, typeOfDesign = "asHSD", gammaA = 0),
  # futility bounds on the z scale
  list(id = "OF_k3_fut_nonbinding", kMax = 3, typeOfDesign = "OF", futilityBounds = c(0, 0.5)),
  list(id = "OF_k3_fut_binding", kMax = 3, typeOfDesign = "OF", futilityBounds = c(0, 0.5), bindingFutility = TRUE),
  list(id = "asOF_k4_fut_binding", kMax = 4, typeOfDesign = "asOF", futilityBounds = c(-0.5, 0, 0.5), bindingFutility = TRUE),
  list(id = "asP_k3_fut_nonbinding", kMax = 3, typeOfDesign = "asP", futilityBounds = c(-6, 0.2)),
  list(id = "HP_k3_fut_binding", kMax = 3, typeOfDesign = "HP", futilityBounds = c(0, 0), bindingFutility = TRUE),
  # beta spending
  list(id = "asOF_bsOF_k3", kMax = 3, typeOfDesign = "asOF", typeBetaSpending = "bsOF"),
  list(id = "asOF_bsOF_k3_binding", kMax = 3, typeOfDesign = "asOF", typeBetaSpending = "bsOF", bindingFutility = TRUE),
  list(id = "asP_bsP_k2", kMax = 2, typeOfDesign = "asP", typeBetaSpending = "bsP"),
  list(id = "asP_bsP_k4_binding", kMax = 4, typeOfDesign = "asP", typeBetaSpending = "bsP", bindingFutility = TRUE),
  list(id = "asKD2_bsKD2_k3_unequal", kMax = 3, typeOfDesign = "asKD", gammaA = 2, typeBetaSpending = "bsKD", gammaB = 2,
       informationRates = c(0.4, 0.7, 1)),
  list(id = "asHSDm2_bsHSDm2_k4", kMax = 4, typeOfDesign = "asHSD", gammaA = -2, typeBetaSpending = "bsHSD", gammaB = -2),
  list(id = "asOF_bsP_k5_binding", kMax = 5, typeOfDesign = "asOF", typeBetaSpending = "bsP", bindingFutility = TRUE,
       beta = 0.1),
  list(id = "asOF_bsOF_k2_a05", kMax = 2, typeOfDesign = "asOF", typeBetaSpending = "bsOF", alpha = 0.05,
       informationRates = c(0.6, 1))
)

design_args <- function(spec) spec[setdiff(names(spec), "id")]

design_out <- lapply(designs, function(spec) {
  d <- do.call(getDesignGroupSequential, design_args(spec))
  ch <- getDesignCharacteristics(d)
  fut <- if (d$kMax > 1 && !all(is.na(d$futilityBounds))) num(d$futilityBounds) else NULL
  list(
    id = spec$id, args = design_args(spec),
    informationRates = need(num(d$informationRates), paste(spec$id, "informationRates")),
    criticalValues = need(num(d$criticalValues), paste(spec$id, "criticalValues")),
    alphaSpent = need(num(d$alphaSpent), paste(spec$id, "alphaSpent")),
    stageLevels = need(num(d$stageLevels), paste(spec$id, "stageLevels")),
    futilityBounds = fut,
    betaSpent = if (!all(is.na(d$betaSpent))) num(d$betaSpent) else NULL,
    power = need(num(ch$power), paste(spec$id, "power")),
    inflationFactor = need(num(ch$inflationFactor), paste(spec$id, "inflationFactor")),
    shift = need(num(ch$shift), paste(spec$id, "shift")),
    averageSampleNumber0 = need(num(ch$averageSampleNumber0), paste(spec$id, "ASN0")),
    averageSampleNumber01 = need(num(ch$averageSampleNumber01), paste(spec$id, "ASN01")),
    averageSampleNumber1 = need(num(ch$averageSampleNumber1), paste(spec$id, "ASN1"))
  )
})

# ---- analyses --------------------------------------------------------------------------
analyses <- list(
  list(id = "asOF_k3_interim2_lower", design = list(kMax = 3, typeOfDesign = "asOF", informationRates = c(0.3, 0.7, 1)),
       events = c(30, 72), logRanks = c(-1.2, -2.4), directionUpper = FALSE, nPlanned = c(30), thetaH1 = 0.7),
  list(id = "asOF_k3_interim2_lower_observedHR", design = list(kMax = 3, typeOfDesign = "asOF", informationRates = c(0.3, 0.7, 1)),
       events = c(30, 72), logRanks = c(-1.2, -2.4), directionUpper = FALSE, nPlanned = c(30)),
  list(id = "asOF_k3_final_reject", design = list(kMax = 3, typeOfDesign = "asOF", informationRates = c(0.3, 0.7, 1)),
       events = c(30, 72, 101), logRanks = c(-1.2, -2.4, -2.3), directionUpper = FALSE),
  list(id = "asOF_k3_final_accept_upper", design = list(kMax = 3, typeOfDesign = "asOF"),
       events = c(40, 80, 120), logRanks = c(0.8, 1.1, 1.5), directionUpper = TRUE),
  list(id = "OF_k2_stop_stage1", design = list(kMax = 2, typeOfDesign = "OF"),
       events = c(60), logRanks = c(-3.1), directionUpper = FALSE),
  list(id = "OF_k3_stop_stage2_upper", design = list(kMax = 3, typeOfDesign = "OF"),
       events = c(50, 100), logRanks = c(1.9, 2.9), directionUpper = TRUE),
  list(id = "P_k3_interim1_cp", design = list(kMax = 3, typeOfDesign = "P"),
       events = c(35), logRanks = c(-1.4), directionUpper = FALSE, nPlanned = c(35, 35), thetaH1 = 0.6),
  list(id = "asP_k4_sided2_final", design = list(kMax = 4, typeOfDesign = "asP", sided = 2, alpha = 0.05),
       events = c(25, 50, 75, 100), logRanks = c(0.9, 1.3, 1.6, 2.4), directionUpper = TRUE),
  list(id = "asOF_k3_sided2_interim_cp", design = list(kMax = 3, typeOfDesign = "asOF", sided = 2, alpha = 0.05),
       events = c(40, 80), logRanks = c(-1.5, -2.0), directionUpper = FALSE, nPlanned = c(40), thetaH1 = 0.65),
  list(id = "asOF_k3_fut_binding_futility", design = list(kMax = 3, typeOfDesign = "asOF", futilityBounds = c(0, 0.5), bindingFutility = TRUE),
       events = c(33, 66), logRanks = c(-0.7, 0.2), directionUpper = FALSE),
  list(id = "asOF_k3_fut_binding_continue", design = list(kMax = 3, typeOfDesign = "asOF", futilityBounds = c(0, 0.5), bindingFutility = TRUE),
       events = c(33, 66), logRanks = c(-0.7, -1.9), directionUpper = FALSE, nPlanned = c(33), thetaH1 = 0.7),
  list(id = "asOF_k3_fut_nonbinding_final", design = list(kMax = 3, typeOfDesign = "asOF", futilityBounds = c(0, 0.5)),
       events = c(33, 66, 99), logRanks = c(-0.7, -1.9, -2.2), directionUpper = FALSE),
  list(id = "asOF_bsOF_k3_interim_cp", design = list(kMax = 3, typeOfDesign = "asOF", typeBetaSpending = "bsOF"),
       events = c(40, 80), logRanks = c(-1.0, -1.8), directionUpper = FALSE, nPlanned = c(40), thetaH1 = 0.75),
  list(id = "HP_k3_final", design = list(kMax = 3, typeOfDesign = "HP"),
       events = c(30, 60, 90), logRanks = c(-1.5, -2.1, -2.3), directionUpper = FALSE),
  list(id = "WT025_k3_ratio2", design = list(kMax = 3, typeOfDesign = "WT", deltaWT = 0.25),
       events = c(40, 80, 120), logRanks = c(-1.1, -2.2, -2.6), directionUpper = FALSE, allocationRatios = c(2, 2, 2)),
  list(id = "asKD2_k4_final_notrejected", design = list(kMax = 4, typeOfDesign = "asKD", gammaA = 2),
       events = c(20, 40, 60, 80), logRanks = c(-0.5, -1.0, -1.2, -1.5), directionUpper = FALSE),
  # boundaries recalculated from the observed events (maxInformation = planned events)
  list(id = "maxinfo_interim_offplan", design = list(kMax = 3, typeOfDesign = "asOF", informationRates = c(0.3, 0.7, 1)),
       events = c(29, 72), logRanks = c(-1.2, -2.4), directionUpper = FALSE, maxInformation = 101),
  list(id = "maxinfo_interim_one_look", design = list(kMax = 2, typeOfDesign = "asOF"),
       events = c(29), logRanks = c(-1.9), directionUpper = FALSE, maxInformation = 66),
  list(id = "maxinfo_final_exact", design = list(kMax = 3, typeOfDesign = "asOF", informationRates = c(0.3, 0.7, 1)),
       events = c(30, 72, 101), logRanks = c(-1.2, -2.4, -2.3), directionUpper = FALSE, maxInformation = 101),
  list(id = "maxinfo_overrunning", design = list(kMax = 3, typeOfDesign = "asOF", informationRates = c(0.3, 0.7, 1)),
       events = c(30, 72, 110), logRanks = c(-1.2, -2.4, -2.3), directionUpper = FALSE, maxInformation = 101,
       rp_tolerance_1e6 = TRUE),
  list(id = "maxinfo_underrunning_eps", design = list(kMax = 2, typeOfDesign = "asP"),
       events = c(31, 62), logRanks = c(-1.3, -2.1), directionUpper = FALSE, maxInformation = 66,
       informationEpsilon = 5, rp_tolerance_1e6 = TRUE),
  list(id = "maxinfo_asP_k4_offplan", design = list(kMax = 4, typeOfDesign = "asP"),
       events = c(22, 47, 70), logRanks = c(-0.9, -1.6, -2.0), directionUpper = FALSE, maxInformation = 100,
       nPlanned = c(30), thetaH1 = 0.7),
  # conditional power at looks off the planned information, on the design recalculated with
  # maxInformation (rpact: the observed information rates, then 1). The first six are issue 20's
  # look: the synthetic data/trial_protocol.csv of that round (since regenerated) cut at month 28.5 (29 deaths, log-rank z -3.108...) as look 1
  # of 66 planned deaths, one- and two-sided.
  list(id = "cp_maxinfo_k2_month28p5_hr1", design = list(kMax = 2, typeOfDesign = "asOF", informationRates = c(0.5, 1),
       futilityBounds = 0), events = c(29), logRanks = c(-3.10824090568076), directionUpper = FALSE,
       maxInformation = 66, nPlanned = c(37), thetaH1 = 1),
  list(id = "cp_maxinfo_k2_month28p5_hr05", design = list(kMax = 2, typeOfDesign = "asOF", informationRates = c(0.5, 1),
       futilityBounds = 0), events = c(29), logRanks = c(-3.10824090568076), directionUpper = FALSE,
       maxInformation = 66, nPlanned = c(37), thetaH1 = 0.5),
  list(id = "cp_maxinfo_k2_month28p5_observedHR", design = list(kMax = 2, typeOfDesign = "asOF",
       informationRates = c(0.5, 1), futilityBounds = 0), events = c(29), logRanks = c(-3.10824090568076),
       directionUpper = FALSE, maxInformation = 66, nPlanned = c(37)),
  list(id = "cp_maxinfo_k2_sided2_month28p5_hr1", design = list(kMax = 2, typeOfDesign = "asOF", sided = 2, alpha = 0.05,
       informationRates = c(0.5, 1)), events = c(29), logRanks = c(-3.10824090568076), directionUpper = FALSE,
       maxInformation = 66, nPlanned = c(37), thetaH1 = 1),
  list(id = "cp_maxinfo_k2_sided2_month28p5_hr05", design = list(kMax = 2, typeOfDesign = "asOF", sided = 2, alpha = 0.05,
       informationRates = c(0.5, 1)), events = c(29), logRanks = c(-3.10824090568076), directionUpper = FALSE,
       maxInformation = 66, nPlanned = c(37), thetaH1 = 0.5),
  list(id = "cp_maxinfo_k2_sided2_month28p5_observedHR", design = list(kMax = 2, typeOfDesign = "asOF", sided = 2,
       alpha = 0.05, informationRates = c(0.5, 1)), events = c(29), logRanks = c(-3.10824090568076),
       directionUpper = FALSE, maxInformation = 66, nPlanned = c(37)),
  list(id = "cp_maxinfo_k3_two_looks_hr1", design = list(kMax = 3, typeOfDesign = "asOF", informationRates = c(0.3, 0.7, 1)),
       events = c(29, 72), logRanks = c(-1.2, -2.4), directionUpper = FALSE, maxInformation = 101, nPlanned = c(29),
       thetaH1 = 1),
  list(id = "cp_maxinfo_k3_two_looks_hr05", design = list(kMax = 3, typeOfDesign = "asOF", informationRates = c(0.3, 0.7, 1)),
       events = c(29, 72), logRanks = c(-1.2, -2.4), directionUpper = FALSE, maxInformation = 101, nPlanned = c(29),
       thetaH1 = 0.5),
  list(id = "cp_maxinfo_k3_two_looks_observedHR", design = list(kMax = 3, typeOfDesign = "asOF",
       informationRates = c(0.3, 0.7, 1)), events = c(29, 72), logRanks = c(-1.2, -2.4), directionUpper = FALSE,
       maxInformation = 101, nPlanned = c(29)),
  list(id = "cp_maxinfo_k3_sided2_two_looks_hr05", design = list(kMax = 3, typeOfDesign = "asOF", sided = 2, alpha = 0.05),
       events = c(35, 61), logRanks = c(-1.1, -1.9), directionUpper = FALSE, maxInformation = 110, nPlanned = c(49),
       thetaH1 = 0.5),
  list(id = "cp_maxinfo_k4_sided2_three_looks_hr1", design = list(kMax = 4, typeOfDesign = "asP", sided = 2, alpha = 0.05),
       events = c(22, 47, 70), logRanks = c(-0.9, -1.6, -2.0), directionUpper = FALSE, maxInformation = 100,
       nPlanned = c(30), thetaH1 = 1),
  list(id = "cp_maxinfo_k4_sided2_three_looks_observedHR", design = list(kMax = 4, typeOfDesign = "asP", sided = 2,
       alpha = 0.05), events = c(22, 47, 70), logRanks = c(-0.9, -1.6, -2.0), directionUpper = FALSE,
       maxInformation = 100, nPlanned = c(30)),
  list(id = "cp_maxinfo_k3_one_look_upper_ratio2_hr15", design = list(kMax = 3, typeOfDesign = "asKD", gammaA = 2),
       events = c(35), logRanks = c(1.4), directionUpper = TRUE, allocationRatios = c(2), allocationRatioPlanned = 2,
       maxInformation = 120, nPlanned = c(85), thetaH1 = 1.5),
  list(id = "cp_maxinfo_k3_one_look_upper_ratio2_observedHR", design = list(kMax = 3, typeOfDesign = "asKD", gammaA = 2),
       events = c(35), logRanks = c(1.4), directionUpper = TRUE, allocationRatios = c(2), allocationRatioPlanned = 2,
       maxInformation = 120, nPlanned = c(85))
)

analysis_out <- lapply(analyses, function(a) {
  d <- do.call(getDesignGroupSequential, a$design)
  k <- length(a$events)
  ratios <- if (is.null(a$allocationRatios)) rep(1, k) else a$allocationRatios
  ds <- getDataset(overallEvents = a$events, overallLogRanks = a$logRanks, overallAllocationRatios = ratios)
  call <- list(design = d, dataInput = ds, directionUpper = a$directionUpper, tolerance = 1e-10)
  if (!is.null(a$nPlanned)) call$nPlanned <- a$nPlanned
  if (!is.null(a$thetaH1)) call$thetaH1 <- a$thetaH1
  if (!is.null(a$maxInformation)) call$maxInformation <- a$maxInformation
  if (!is.null(a$informationEpsilon)) call$informationEpsilon <- a$informationEpsilon
  # conditional power's drift uses the planned allocation ratio (default 1): given equal to the data's
  if (!is.null(a$allocationRatioPlanned)) call$allocationRatioPlanned <- a$allocationRatioPlanned
  r <- suppressMessages(suppressWarnings(do.call(getAnalysisResults, call)))
  used <- r$.design
  fin <- function(v) { v <- num(v); if (all(is.na(v))) NA_real_ else v[!is.na(v)][1] }
  res <- list(
    id = a$id, design = a$design, events = a$events, logRanks = a$logRanks, allocationRatios = ratios,
    directionUpper = a$directionUpper,
    maxInformation = if (is.null(a$maxInformation)) NA_real_ else a$maxInformation,
    informationEpsilon = if (is.null(a$informationEpsilon)) NA_real_ else a$informationEpsilon,
    allocationRatioPlanned = if (is.null(a$allocationRatioPlanned)) NA_real_ else a$allocationRatioPlanned,
    rp_tolerance_1e6 = isTRUE(a$rp_tolerance_1e6),
    usedInformationRates = need(num(used$informationRates), paste(a$id, "informationRates")),
    criticalValues = need(num(used$criticalValues), paste(a$id, "criticalValues")),
    testActions = need(r$testActions[1:k], paste(a$id, "testActions")),
    repeatedPValues = num(r$repeatedPValues),
    rciLower = need(num(r$repeatedConfidenceIntervalLowerBounds), paste(a$id, "RCI")),
    rciUpper = need(num(r$repeatedConfidenceIntervalUpperBounds), paste(a$id, "RCI")),
    finalPValue = fin(r$finalPValues),
    finalCILower = fin(r$finalConfidenceIntervalLowerBounds),
    finalCIUpper = fin(r$finalConfidenceIntervalUpperBounds),
    medianUnbiased = fin(r$medianUnbiasedEstimates),
    finalStage = if (is.null(r$finalStage) || is.na(r$finalStage)) NA_real_ else r$finalStage,
    crp = num(r$conditionalRejectionProbabilities),
    nPlanned = if (is.null(a$nPlanned)) NA_real_ else a$nPlanned,
    thetaH1 = num(r$thetaH1),
    conditionalPower = num(r$conditionalPower)
  )
  if (!is.null(a$nPlanned)) need(res$conditionalPower[!is.na(res$conditionalPower)], paste(a$id, "conditionalPower"))
  res
})

# ---- survival sample size for a design: getSampleSizeSurvival(design, ...) -------------
sample_sizes <- list(
  list(id = "asOF_bsOF_k3_dropout", design = list(kMax = 3, typeOfDesign = "asOF", typeBetaSpending = "bsOF",
       informationRates = c(0.4, 0.7, 1)), hazardRatio = 0.5, lambda2 = 0.5 / 24, accrual = 36, followUp = 24,
       dropoutRate = 0.05, dropoutTime = 12, ratio = 1),
  list(id = "protocol_asOF_k2_sided2", design = list(kMax = 2, typeOfDesign = "asOF", sided = 2, alpha = 0.05,
       informationRates = c(0.5, 1)), hazardRatio = 0.5, lambda2 = 0.5 / 24, accrual = 36, followUp = 24, ratio = 1),
  list(id = "OF_k3_ratio2_hr07", design = list(kMax = 3, typeOfDesign = "OF"), hazardRatio = 0.7,
       lambda2 = log(2) / 20, accrual = 24, followUp = 12, ratio = 2),
  list(id = "asP_k4_futility_hr06", design = list(kMax = 4, typeOfDesign = "asP", futilityBounds = c(-0.5, 0, 0.3)),
       hazardRatio = 0.6, lambda2 = 0.03, accrual = 30, followUp = 18, ratio = 1),
  list(id = "asOF_k3_hr15_upper", design = list(kMax = 3, typeOfDesign = "asOF"), hazardRatio = 1.5,
       lambda2 = 0.02, accrual = 24, followUp = 24, ratio = 1),
  list(id = "fixed_k1", design = list(kMax = 1, alpha = 0.05, sided = 2), hazardRatio = 0.5, lambda2 = 0.5 / 24,
       accrual = 36, followUp = 24, ratio = 1)
)

sample_size_out <- lapply(sample_sizes, function(c) {
  d <- do.call(getDesignGroupSequential, c$design)
  call <- list(design = d, hazardRatio = c$hazardRatio, lambda2 = c$lambda2, accrualTime = c(0, c$accrual),
               followUpTime = c$followUp, allocationRatioPlanned = c$ratio)
  if (!is.null(c$dropoutRate)) {
    call$dropoutRate1 <- c$dropoutRate; call$dropoutRate2 <- c$dropoutRate; call$dropoutTime <- c$dropoutTime
  }
  s <- suppressWarnings(do.call(getSampleSizeSurvival, call))
  crit <- if (d$sided == 2) {
    if (c$hazardRatio < 1) s$criticalValuesEffectScaleLower else s$criticalValuesEffectScaleUpper
  } else s$criticalValuesEffectScale
  fut <- if (d$kMax > 1 && !all(is.na(s$futilityBoundsEffectScale))) num(s$futilityBoundsEffectScale) else NULL
  list(
    id = c$id, design = c$design, hazardRatio = c$hazardRatio, lambda2 = c$lambda2, accrual = c$accrual,
    followUp = c$followUp, ratio = c$ratio,
    dropoutHazard = if (is.null(c$dropoutRate)) 0 else -log(1 - c$dropoutRate) / c$dropoutTime,
    eventsFixed = need(num(s$eventsFixed), paste(c$id, "eventsFixed")),
    maxNumberOfEvents = need(num(s$maxNumberOfEvents), paste(c$id, "maxNumberOfEvents")),
    eventsPerStage = need(num(s$eventsPerStage), paste(c$id, "eventsPerStage")),
    # rpact gives no expected events for a one-look design (they equal the fixed events)
    expectedEventsH0 = if (d$kMax > 1) need(num(s$expectedEventsH0), paste(c$id, "expectedEventsH0")) else NA_real_,
    expectedEventsH01 = if (d$kMax > 1) need(num(s$expectedEventsH01), paste(c$id, "expectedEventsH01")) else NA_real_,
    expectedEventsH1 = need(num(s$expectedEventsH1), paste(c$id, "expectedEventsH1")),
    maxNumberOfSubjects = need(num(s$maxNumberOfSubjects), paste(c$id, "maxNumberOfSubjects")),
    analysisTime = need(num(s$analysisTime), paste(c$id, "analysisTime")),
    numberOfSubjects = need(num(s$numberOfSubjects), paste(c$id, "numberOfSubjects")),
    expectedNumberOfSubjectsH1 = if (d$kMax > 1) need(num(s$expectedNumberOfSubjectsH1), paste(c$id, "expectedNumberOfSubjectsH1")) else NA_real_,
    criticalValuesEffectScale = need(num(crit), paste(c$id, "criticalValuesEffectScale")),
    futilityBoundsEffectScale = fut
  )
})

# ---- power of a design held at a number of events: getPowerSurvival(design, ...) --------
# hazardRatio = c(1, HR): column 1 is H0, column 2 is H1 (crossing probabilities per stage,
# analysis times and subjects by then, expected events)
powers <- list(
  list(id = "plan_asOF_k2_sided2", design = list(kMax = 2, typeOfDesign = "asOF", sided = 2, alpha = 0.05,
       informationRates = c(0.5, 1)), hazardRatio = 0.5, lambda2 = 0.5 / 24, accrual = 36, maxSubjects = 236,
       maxEvents = 66, dropoutRate = 0.05, dropoutTime = 24, ratio = 1),
  list(id = "plan_asOF_k2_onesided", design = list(kMax = 2, typeOfDesign = "asOF", informationRates = c(0.5, 1)),
       hazardRatio = 0.5, lambda2 = 0.5 / 24, accrual = 36, maxSubjects = 236, maxEvents = 66, dropoutRate = 0.05,
       dropoutTime = 24, ratio = 1),
  list(id = "asOF_k3_fut_nonbinding_ratio2", design = list(kMax = 3, typeOfDesign = "asOF", informationRates = c(0.4, 0.7, 1),
       futilityBounds = c(0, 0.3)), hazardRatio = 0.6, lambda2 = 0.03, accrual = 30, maxSubjects = 300, maxEvents = 120,
       ratio = 2),
  list(id = "asP_k3_fut_binding_upper_dropout", design = list(kMax = 3, typeOfDesign = "asP", futilityBounds = c(-0.5, 0),
       bindingFutility = TRUE), hazardRatio = 1.5, lambda2 = 0.02, accrual = 24, maxSubjects = 400, maxEvents = 150,
       dropoutRate = 0.1, dropoutTime = 12, ratio = 1),
  list(id = "asOF_bsOF_k3", design = list(kMax = 3, typeOfDesign = "asOF", typeBetaSpending = "bsOF"), hazardRatio = 0.7,
       lambda2 = log(2) / 18, accrual = 24, maxSubjects = 500, maxEvents = 250, ratio = 1),
  list(id = "asP_k4_sided2_ratio15", design = list(kMax = 4, typeOfDesign = "asP", sided = 2, alpha = 0.05,
       informationRates = c(0.25, 0.5, 0.8, 1)), hazardRatio = 0.65, lambda2 = 0.04, accrual = 20, maxSubjects = 280,
       maxEvents = 140, ratio = 1.5)
)

power_out <- lapply(powers, function(c) {
  d <- do.call(getDesignGroupSequential, c$design)
  call <- list(design = d, hazardRatio = c(1, c$hazardRatio), lambda2 = c$lambda2, accrualTime = c(0, c$accrual),
               maxNumberOfSubjects = c$maxSubjects, maxNumberOfEvents = c$maxEvents, allocationRatioPlanned = c$ratio)
  if (d$sided == 1) call$directionUpper <- c$hazardRatio > 1
  if (!is.null(c$dropoutRate)) {
    call$dropoutRate1 <- c$dropoutRate; call$dropoutRate2 <- c$dropoutRate; call$dropoutTime <- c$dropoutTime
  }
  p <- suppressWarnings(do.call(getPowerSurvival, call))
  two <- d$sided == 2
  fut <- if (d$kMax > 1 && !two && !all(is.na(p$futilityBoundsEffectScale))) num(p$futilityBoundsEffectScale) else NULL
  col <- function(m, j, what) need(num(as.matrix(m)[, j]), paste(c$id, what))
  list(
    id = c$id, design = c$design, hazardRatio = c$hazardRatio, lambda2 = c$lambda2, accrual = c$accrual,
    maxSubjects = c$maxSubjects, maxEvents = c$maxEvents, ratio = c$ratio,
    dropoutHazard = if (is.null(c$dropoutRate)) 0 else -log(1 - c$dropoutRate) / c$dropoutTime,
    eventsPerStage = need(num(p$eventsPerStage), paste(c$id, "eventsPerStage")),
    rejectPerStageH0 = col(p$rejectPerStage, 1, "rejectPerStage"),
    rejectPerStageH1 = col(p$rejectPerStage, 2, "rejectPerStage"),
    futilityPerStageH0 = if (d$kMax > 1) col(p$futilityPerStage, 1, "futilityPerStage") else NULL,
    futilityPerStageH1 = if (d$kMax > 1) col(p$futilityPerStage, 2, "futilityPerStage") else NULL,
    overallReject = need(num(p$overallReject), paste(c$id, "overallReject")),
    expectedNumberOfEvents = need(num(p$expectedNumberOfEvents), paste(c$id, "expectedNumberOfEvents")),
    analysisTimeH0 = col(p$analysisTime, 1, "analysisTime"),
    analysisTimeH1 = col(p$analysisTime, 2, "analysisTime"),
    numberOfSubjectsH0 = col(p$numberOfSubjects, 1, "numberOfSubjects"),
    numberOfSubjectsH1 = col(p$numberOfSubjects, 2, "numberOfSubjects"),
    criticalValuesEffectScale = need(num(if (two) {
      if (c$hazardRatio < 1) p$criticalValuesEffectScaleLower else p$criticalValuesEffectScaleUpper
    } else p$criticalValuesEffectScale), paste(c$id, "criticalValuesEffectScale")),
    criticalValuesEffectScaleReverse = if (two) need(num(if (c$hazardRatio < 1) p$criticalValuesEffectScaleUpper
      else p$criticalValuesEffectScaleLower), paste(c$id, "criticalValuesEffectScaleReverse")) else NULL,
    futilityBoundsEffectScale = fut
  )
})

res <- list(rpact = as.character(packageVersion("rpact")), designs = design_out, analyses = analysis_out,
            sampleSizes = sample_size_out, powers = power_out)
writeLines(toJSON(res, auto_unbox = TRUE, digits = I(15), pretty = TRUE, na = "null", null = "null"), out)
