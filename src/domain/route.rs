//! Learning routes and modules (leerroutes) and the cohorts participants belong to.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    B1,
    Z,
    Education,
    Map,
    Knm,
    Alfa,
}

impl Route {
    pub const ALL: [Route; 6] = [Route::B1, Route::Z, Route::Education, Route::Map, Route::Knm, Route::Alfa];

    pub fn code(self) -> &'static str {
        match self {
            Route::B1 => "b1",
            Route::Z => "z",
            Route::Education => "education",
            Route::Map => "map",
            Route::Knm => "knm",
            Route::Alfa => "alfa",
        }
    }

    pub fn parse(code: &str) -> Option<Route> {
        let c = code.trim().to_lowercase();
        Route::ALL.into_iter().find(|r| r.code() == c)
    }

    pub fn label(self) -> &'static str {
        match self {
            Route::B1 => "B1-route",
            Route::Z => "Z-route",
            Route::Education => "Onderwijsroute",
            Route::Map => "Module Arbeidsmarkt en Participatie (MAP)",
            Route::Knm => "Kennis van de Nederlandse Maatschappij (KNM)",
            Route::Alfa => "Alfabetisering",
        }
    }

    pub fn short_label(self) -> &'static str {
        match self {
            Route::B1 => "B1",
            Route::Z => "Z",
            Route::Education => "Onderwijs",
            Route::Map => "MAP",
            Route::Knm => "KNM",
            Route::Alfa => "Alfa",
        }
    }

    /// Routes under Wi2021 that may only be bought from holders of the Blik op Werk mark.
    pub fn needs_mark(self) -> bool {
        matches!(self, Route::B1 | Route::Z)
    }
}

/// Which law and group a participant falls under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cohort {
    Wi2021,
    Wi2013,
    Elip,
    Other,
}

impl Cohort {
    pub const ALL: [Cohort; 4] = [Cohort::Wi2021, Cohort::Wi2013, Cohort::Elip, Cohort::Other];

    pub fn code(self) -> &'static str {
        match self {
            Cohort::Wi2021 => "wi2021",
            Cohort::Wi2013 => "wi2013",
            Cohort::Elip => "elip",
            Cohort::Other => "other",
        }
    }

    pub fn parse(code: &str) -> Option<Cohort> {
        let c = code.trim().to_lowercase();
        Cohort::ALL.into_iter().find(|r| r.code() == c)
    }

    pub fn label(self) -> &'static str {
        match self {
            Cohort::Wi2021 => "Wet inburgering 2021",
            Cohort::Wi2013 => "Ondertussengroep (Wi2013)",
            Cohort::Elip => "ELIP (Wi2013, lening op)",
            Cohort::Other => "Overig (bijv. Oekraïners)",
        }
    }
}

/// Parses "b1, z" or "b1;z" into routes, naming the first unknown one.
pub fn parse_routes(text: &str) -> Result<Vec<Route>, String> {
    let mut out = Vec::new();
    for part in text.split([',', ';', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
        let r = Route::parse(part)
            .ok_or_else(|| format!("Onbekende leerroute '{part}'; kies uit b1, z, education, map, knm, alfa."))?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out.sort();
    Ok(out)
}

pub fn routes_code(routes: &[Route]) -> String {
    routes.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}
