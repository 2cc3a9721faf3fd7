import CGSL

/// Special functions the evaluators need, from GSL (no GSL type crosses this API).
public enum SpecialFunctions {
    /// log(erfc(x)), accurate where erfc(x) underflows (GSL `gsl_sf_log_erfc`).
    public static func logErfc(_ x: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_sf_log_erfc(x)
    }

    /// The upper quantile of Student's t with `nu` degrees of freedom: t such that P(T > t) = q
    /// (GSL `gsl_cdf_tdist_Qinv`).
    public static func studentTUpperQuantile(_ q: Double, nu: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_cdf_tdist_Qinv(q, nu)
    }

    /// The standard normal CDF, Phi(x) (GSL `gsl_cdf_ugaussian_P`).
    public static func normalCDF(_ x: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_cdf_ugaussian_P(x)
    }

    /// The upper quantile of the standard normal: z such that P(Z > z) = q (GSL `gsl_cdf_ugaussian_Qinv`).
    public static func normalUpperQuantile(_ q: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_cdf_ugaussian_Qinv(q)
    }

    /// z of a two-sided interval at `confidence` (1.959964 for 0.95).
    public static func twoSidedZ(confidence: Double) -> Double { normalUpperQuantile((1 - confidence) / 2) }

    /// log(Gamma(x)) for x > 0 (GSL `gsl_sf_lngamma`).
    public static func logGamma(_ x: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_sf_lngamma(x)
    }

    /// P(X > x) for X ~ Beta(a, b) (GSL `gsl_cdf_beta_Q`).
    public static func betaUpperTail(_ x: Double, _ a: Double, _ b: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_cdf_beta_Q(x, a, b)
    }

    /// The density of Beta(a, b) at x (GSL `gsl_ran_beta_pdf`).
    public static func betaDensity(_ x: Double, _ a: Double, _ b: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_ran_beta_pdf(x, a, b)
    }

    /// The x with P(X > x) = q for X ~ Beta(a, b) (GSL `gsl_cdf_beta_Qinv`).
    public static func betaUpperQuantile(_ q: Double, _ a: Double, _ b: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_cdf_beta_Qinv(q, a, b)
    }

    /// P(X > x) for X ~ chi-squared with `nu` degrees of freedom (GSL `gsl_cdf_chisq_Q`).
    public static func chiSquaredUpperTail(_ x: Double, nu: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_cdf_chisq_Q(x, nu)
    }

    /// P(T > t) for Student's t with `nu` degrees of freedom (GSL `gsl_cdf_tdist_Q`).
    public static func studentTUpperTail(_ t: Double, nu: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_cdf_tdist_Q(t, nu)
    }
}
