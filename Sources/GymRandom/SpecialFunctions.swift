import CGSL

/// Special functions the evaluators need, from GSL (no GSL type crosses this API).
public enum SpecialFunctions {
    /// log(erfc(x)), accurate where erfc(x) underflows (GSL `gsl_sf_log_erfc`).
    public static func logErfc(_ x: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_sf_log_erfc(x)
    }

    /// The standard normal CDF, Phi(x) (GSL `gsl_cdf_ugaussian_P`).
    public static func normalCDF(_ x: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_cdf_ugaussian_P(x)
    }

    /// log(Gamma(x)) for x > 0 (GSL `gsl_sf_lngamma`).
    public static func logGamma(_ x: Double) -> Double {
        GSL.ensureSetUp()
        return gsl_sf_lngamma(x)
    }
}
