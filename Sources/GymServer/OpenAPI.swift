// Generated from docs/openapi.json (kept equal by GymServerTests.testOpenAPIDocumentIsTheRepositoryCopy).

enum OpenAPIDocument {
    static let text = ##"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "OptimaGym /api/ml",
    "version": "0.1.0",
    "description": "The learning loop's endpoints over the OptimaGym store (blueprint section 6). This version serves the store read-only: the model registry, a model's metrics, a user's episodes, and the dashboard."
  },
  "servers": [
    {
      "url": "http://127.0.0.1:8080"
    }
  ],
  "paths": {
    "/api/ml/models": {
      "get": {
        "operationId": "listModels",
        "summary": "Models in the registry, newest first",
        "parameters": [
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000,
              "default": 100
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The models",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelList"
                }
              }
            }
          },
          "400": {
            "description": "A bad limit",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/api/ml/metrics/{modelId}": {
      "get": {
        "operationId": "modelMetrics",
        "summary": "A model's metrics in every run that evaluated it",
        "parameters": [
          {
            "$ref": "#/components/parameters/ModelId"
          }
        ],
        "responses": {
          "200": {
            "description": "The metrics",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelMetrics"
                }
              }
            }
          },
          "400": {
            "description": "A malformed or ambiguous id",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "No such model or alias",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/api/ml/episodes/{userId}": {
      "get": {
        "operationId": "userEpisodes",
        "summary": "A user's logged episodes",
        "parameters": [
          {
            "name": "userId",
            "in": "path",
            "required": true,
            "schema": {
              "$ref": "#/components/schemas/Id"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 10000,
              "default": 1000
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The episodes (empty when the user has none)",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/UserEpisodes"
                }
              }
            }
          },
          "400": {
            "description": "A malformed id or limit",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document",
        "responses": {
          "200": {
            "description": "The OpenAPI document",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          }
        }
      }
    },
    "/": {
      "get": {
        "operationId": "dashboard",
        "summary": "The dashboard: runs and sweeps with their gate verdicts, and the registry",
        "responses": {
          "200": {
            "description": "An HTML page",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        }
      }
    },
    "/runs/{runId}": {
      "get": {
        "operationId": "runPage",
        "summary": "A run's metrics with intervals, verdicts and charts",
        "parameters": [
          {
            "name": "runId",
            "in": "path",
            "required": true,
            "schema": {
              "$ref": "#/components/schemas/Id"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "An HTML page",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "400": {
            "description": "A malformed or ambiguous id",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "No such run",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    }
  },
  "components": {
    "parameters": {
      "ModelId": {
        "name": "modelId",
        "in": "path",
        "required": true,
        "description": "A checkpoint id, a unique prefix of one, or an alias (champion)",
        "schema": {
          "$ref": "#/components/schemas/Id"
        }
      }
    },
    "schemas": {
      "Id": {
        "type": "string",
        "pattern": "^[A-Za-z0-9._:-]{1,128}$"
      },
      "Error": {
        "type": "object",
        "required": [
          "error"
        ],
        "properties": {
          "error": {
            "type": "object",
            "required": [
              "message"
            ],
            "properties": {
              "message": {
                "type": "string"
              }
            }
          }
        }
      },
      "Model": {
        "type": "object",
        "required": [
          "id",
          "model_type",
          "agent",
          "run_id",
          "scenario",
          "seed",
          "training_date",
          "is_active",
          "aliases",
          "performance_metrics"
        ],
        "properties": {
          "id": {
            "type": "string"
          },
          "model_type": {
            "type": "string"
          },
          "agent": {
            "type": "string"
          },
          "run_id": {
            "type": "string"
          },
          "scenario": {
            "type": "string"
          },
          "seed": {
            "type": "string"
          },
          "training_date": {
            "type": "string"
          },
          "is_active": {
            "type": "boolean"
          },
          "aliases": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "parent_id": {
            "type": [
              "string",
              "null"
            ]
          },
          "performance_metrics": {
            "type": "string",
            "description": "JSON object of metric name to value"
          }
        }
      },
      "ModelList": {
        "type": "object",
        "required": [
          "models"
        ],
        "properties": {
          "models": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Model"
            }
          }
        }
      },
      "Metric": {
        "type": "object",
        "required": [
          "run_id",
          "agent",
          "name",
          "n"
        ],
        "properties": {
          "run_id": {
            "type": "string"
          },
          "agent": {
            "type": "string"
          },
          "name": {
            "type": "string"
          },
          "value": {
            "type": [
              "number",
              "null"
            ]
          },
          "ci_low": {
            "type": [
              "number",
              "null"
            ]
          },
          "ci_high": {
            "type": [
              "number",
              "null"
            ]
          },
          "n": {
            "type": "integer"
          },
          "note": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "ModelMetrics": {
        "type": "object",
        "required": [
          "model_id",
          "agent",
          "model_type",
          "metrics"
        ],
        "properties": {
          "model_id": {
            "type": "string"
          },
          "agent": {
            "type": "string"
          },
          "model_type": {
            "type": "string"
          },
          "metrics": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Metric"
            }
          }
        }
      },
      "Episode": {
        "type": "object",
        "required": [
          "run_id",
          "episode_id",
          "user_id",
          "action_taken",
          "outcome",
          "reward_score",
          "timestamp",
          "model_version",
          "context_snapshot"
        ],
        "properties": {
          "run_id": {
            "type": "string"
          },
          "episode_id": {
            "type": "string"
          },
          "user_id": {
            "type": "string"
          },
          "action_taken": {
            "type": "string"
          },
          "outcome": {
            "type": "string"
          },
          "reward_score": {
            "type": "number"
          },
          "timestamp": {
            "type": "string"
          },
          "model_version": {
            "type": "string"
          },
          "propensity": {
            "type": [
              "number",
              "null"
            ]
          },
          "journey_step": {
            "type": [
              "integer",
              "null"
            ]
          },
          "context_snapshot": {
            "type": "string"
          }
        }
      },
      "UserEpisodes": {
        "type": "object",
        "required": [
          "user_id",
          "episodes"
        ],
        "properties": {
          "user_id": {
            "type": "string"
          },
          "episodes": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Episode"
            }
          }
        }
      }
    }
  }
}

"""##
}
