package session

import (
	"context"
	"fmt"
	"sync"

	"app-server/model"
	"app-server/protocol"

	"github.com/google/uuid"
)

// Which agent runs a thread's turns: the shell agent when its model is
// "shell", the model agent otherwise. A new thread gets the configured
// model (config key model) when there is one, the shell agent otherwise;
// thread/start, thread/resume and turn/start may choose.

// modelClients holds one model.Client per provider, made on first use so
// that a provider's missing API key is an error of the first turn that
// needs it, not of the server's start.
type modelClients struct {
	mu   sync.Mutex
	byID map[string]*model.Client
}

func (c *modelClients) get(cfg *model.Config, providerID string) (*model.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.byID[providerID]; ok {
		return cl, nil
	}
	p, err := cfg.Provider(providerID)
	if err != nil {
		return nil, err
	}
	if c.byID == nil {
		c.byID = make(map[string]*model.Client)
	}
	cl := model.NewClient(p, nil)
	c.byID[providerID] = cl
	return cl, nil
}

// defaultModel is the model and provider of a thread that does not choose.
func (m *Manager) defaultModel() (string, string) {
	if m.cfg.Model.Model == "" {
		return shellModel, shellProvider
	}
	return m.cfg.Model.Model, m.cfg.Model.DefaultProviderID()
}

// chooseModel applies the model and provider a client asked for to s.
func (m *Manager) chooseModel(s settings, modelName, providerID *string) (settings, error) {
	if providerID != nil && *providerID != s.provider {
		if *providerID == shellProvider {
			s.model, s.provider = shellModel, shellProvider
		} else {
			if _, err := m.cfg.Model.Provider(*providerID); err != nil {
				return s, invalidParams("modelProvider: %v", err)
			}
			s.provider = *providerID
			if s.model == shellModel {
				if m.cfg.Model.Model == "" && modelName == nil {
					return s, invalidParams("modelProvider %s needs a model: set model in the request or in config.toml", *providerID)
				}
				s.model = m.cfg.Model.Model
			}
		}
	}
	if modelName != nil && *modelName != s.model {
		switch {
		case *modelName == shellModel:
			s.model, s.provider = shellModel, shellProvider
		case *modelName == "":
			return s, invalidParams("model is empty")
		default:
			s.model = *modelName
			if s.provider == shellProvider {
				s.provider = m.cfg.Model.DefaultProviderID()
			}
		}
	}
	return s, nil
}

// turnModel applies turn/start's model and effort to the thread's
// settings.
func (m *Manager) turnModel(s settings, p *protocol.TurnStartParams) (settings, error) {
	s, err := m.chooseModel(s, p.Model, nil)
	if err != nil {
		return s, err
	}
	if p.Effort != nil {
		s.effort = *p.Effort
	}
	return s, nil
}

// agentFor returns the agent of a turn with settings s.
func (m *Manager) agentFor(threadID uuid.UUID, s settings) (Agent, error) {
	if s.model == shellModel {
		return shellAgent{}, nil
	}
	client, err := m.models.get(&m.cfg.Model, s.provider)
	if err != nil {
		return nil, err
	}
	effort := s.effort
	if effort == "" {
		effort = m.cfg.Model.ModelReasoningEffort
	}
	return &modelAgent{
		client: client, model: s.model, effort: effort, summary: m.cfg.Model.ModelReasoningSummary,
		threadID: threadID.String(), settings: s, shell: m.cfg.Shell,
	}, nil
}

// ListModels answers model/list: the configured model (the default of new
// threads when set) and the shell agent.
func (m *Manager) ListModels(_ context.Context, p *protocol.ModelListParams) (*protocol.ModelListResponse, error) {
	efforts := []protocol.ReasoningEffortOption{}
	for _, e := range []string{"minimal", "low", "medium", "high"} {
		efforts = append(efforts, protocol.ReasoningEffortOption{ReasoningEffort: e, Description: e + " reasoning effort"})
	}
	defaultEffort := m.cfg.Model.ModelReasoningEffort
	if defaultEffort == "" {
		defaultEffort = "medium"
	}
	var data []protocol.Model
	if name := m.cfg.Model.Model; name != "" {
		provider := m.cfg.Model.DefaultProviderID()
		if p.ModelProvider == nil || *p.ModelProvider == provider {
			pv, _ := m.cfg.Model.Provider(provider)
			data = append(data, protocol.Model{
				ID: name, Model: name, DisplayName: name, IsDefault: true,
				Description:            fmt.Sprintf("%s, served by %s (%s)", name, pv.Name, pv.BaseURL),
				DefaultReasoningEffort: defaultEffort, SupportedReasoningEfforts: efforts,
				InputModalities: []protocol.InputModality{protocol.ModalityText}, AdditionalSpeedTiers: []string{},
			})
		}
	}
	if p.ModelProvider == nil || *p.ModelProvider == shellProvider {
		data = append(data, protocol.Model{
			ID: shellModel, Model: shellModel, DisplayName: "Shell agent", IsDefault: m.cfg.Model.Model == "",
			Description:            "Runs each text input as a command line (no model).",
			DefaultReasoningEffort: "none", SupportedReasoningEfforts: []protocol.ReasoningEffortOption{},
			InputModalities: []protocol.InputModality{protocol.ModalityText}, AdditionalSpeedTiers: []string{},
		})
	}
	if data == nil {
		data = []protocol.Model{}
	}
	return &protocol.ModelListResponse{Data: data}, nil
}
