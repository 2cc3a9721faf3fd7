// Generated from docs/openapi.json (kept equal by GymServerTests.testOpenAPIDocumentIsTheRepositoryCopy).

enum OpenAPIDocument {
    static let text = ##"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "OptimaGym /api/ml",
    "version": "0.1.0",
    "description": "The learning loop's endpoints over the OptimaGym store (blueprint section 6): the model registry, a model's metrics, a user's episodes, logging the live system's episodes and reward signals (bearer token), and the dashboard."
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
    },
    "/api/ml/episode": {
      "post": {
        "operationId": "logEpisode",
        "summary": "Log one episode of the live system (a training_episodes row)",
        "security": [
          {
            "bearer": []
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/NewEpisode"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Stored (committed before this answer)",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Stored"
                }
              }
            }
          },
          "400": {
            "description": "A missing or invalid field (the message names it), or a body that is not a JSON object",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "No valid bearer token",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "403": {
            "description": "The server is read-only (no token configured)",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "Posted before (the same id)",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "A body larger than 64 KiB",
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
    "/api/ml/reward": {
      "post": {
        "operationId": "postReward",
        "summary": "Post one reward signal for a logged live episode (a reward_signals row)",
        "security": [
          {
            "bearer": []
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/NewSignal"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Stored (committed before this answer)",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Stored"
                }
              }
            }
          },
          "400": {
            "description": "A missing or invalid field (the message names it), or a body that is not a JSON object",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "No valid bearer token",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "403": {
            "description": "The server is read-only (no token configured)",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "Posted before (the same id)",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "A body larger than 64 KiB",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "No live episode with this episode_id",
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
      },
      "NewEpisode": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "episode_id",
          "user_id",
          "action_taken",
          "outcome",
          "reward_score",
          "timestamp",
          "model_version"
        ],
        "properties": {
          "episode_id": {
            "$ref": "#/components/schemas/Id"
          },
          "user_id": {
            "$ref": "#/components/schemas/Id"
          },
          "context_snapshot": {
            "type": [
              "object",
              "null"
            ],
            "description": "The user's context as a JSON object (at most 16 KiB)"
          },
          "action_taken": {
            "type": "string",
            "minLength": 1,
            "maxLength": 128
          },
          "outcome": {
            "type": "string",
            "enum": [
              "success",
              "neutral",
              "failure"
            ]
          },
          "reward_score": {
            "type": "number",
            "minimum": -1,
            "maximum": 1
          },
          "timestamp": {
            "type": "string",
            "format": "date-time"
          },
          "model_version": {
            "$ref": "#/components/schemas/Id"
          },
          "propensity": {
            "type": [
              "number",
              "null"
            ],
            "exclusiveMinimum": 0,
            "maximum": 1
          },
          "journey_step": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 0,
            "maximum": 1000000000
          }
        }
      },
      "NewSignal": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "signal_id",
          "episode_id",
          "signal_type",
          "value",
          "latency",
          "confidence"
        ],
        "properties": {
          "signal_id": {
            "$ref": "#/components/schemas/Id"
          },
          "episode_id": {
            "$ref": "#/components/schemas/Id"
          },
          "signal_type": {
            "type": "string",
            "enum": [
              "engagement",
              "resonance",
              "explicit_feedback"
            ]
          },
          "value": {
            "type": "number",
            "minimum": -1,
            "maximum": 1
          },
          "latency": {
            "type": "integer",
            "minimum": 0,
            "maximum": 31536000,
            "description": "Seconds from the action to the signal"
          },
          "confidence": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          }
        }
      },
      "Stored": {
        "type": "object",
        "required": [
          "id",
          "stored"
        ],
        "properties": {
          "id": {
            "type": "string"
          },
          "stored": {
            "type": "boolean"
          }
        }
      }
    },
    "securitySchemes": {
      "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The token given to `optima-gym serve --token-file` (or OPTIMA_GYM_TOKEN); without one the server is read-only and writes get 403."
      }
    }
  }
}

"""##
}
