/// Every operation Baton offers, named as in `openapi.yaml` (its `operationId`), with who may
/// call it: the one access table. HTTP requests are checked against it before their handler
/// runs, every service method checks it again (for the CLI, the monitor and automation), and
/// the access review test reads it. A new operation without an entry here does not compile;
/// a documented operation missing here fails the tests.
public enum UseCase: String, Sendable, CaseIterable {
    // Operations
    case getHealth, getReadiness, getOpenAPIDocument, getMetrics
    // Reference data
    case listRegions, createRegion, listTeams, createTeam
    case listMembers, createMember, addMembership, deactivateMember
    // SLAs
    case getCalendar, setCalendar, addHoliday, removeHoliday
    case listSLAPolicies, createSLAPolicy, disableSLAPolicy, enableSLAPolicy, listSLABreaches
    case holdTask, resumeTask
    // Tasks
    case pauseTeam, resumeTeam, getTeamStats
    case createTask, createTasks, claimTasks, listTasks, completeTasks, getTask
    case heartbeatTask, completeTask, failTask, releaseTask, retryTask, cancelTask, handoffTask
    // Events
    case listEvents, streamEvents
    // Tokens
    case listTokens, createToken, revokeToken
    // Customers
    case listCustomers, createCustomer, getCustomer, updateCustomer, deleteCustomer
    case listContacts, addContact, updateContact, listInteractions, logInteraction, getCustomerTimeline
    // Pipeline
    case listOpportunities, createOpportunity, getOpportunity, updateOpportunity, deleteOpportunity, listOpportunityTransitions
    case moveOpportunityStage, winOpportunity, loseOpportunity, reopenOpportunity
    case getPipeline, getPipelineSettings, setPipelineSettings
    // Products and stock
    case listProducts, createProduct, getProduct, updateProduct
    case listStock, getStock, setStockSettings, receiveStock, adjustStock, listStockMovements, verifyStock
    // Orders
    case listOrders, createOrder, getOrder, updateOrder, confirmOrder, shipOrder, deliverOrder, cancelOrder, holdOrder, releaseOrder
    // Campaigns
    case listCampaigns, createCampaign, getCampaign, updateCampaign, getCampaignResults
    // Cases and feedback
    case listCases, createCase, getCase, updateCase, deleteCase, listCaseTransitions
    case openCase, setCasePending, resolveCase, closeCase, reopenCase
    case getCaseSettings, setCaseSettings, listFeedback, createFeedback, getCSAT
    // Handoff rules
    case listRules, createRule, getRule, updateRule, testRule
    // Plans and reports
    case listTargets, createTarget, getTarget, updateTarget, getPlanReport, getLeaderboard, getKPIReport, setMarketSize
    case getReportSettings, setReportSettings
    // Webhooks
    case listWebhooks, createWebhook, getWebhook, updateWebhook, deleteWebhook, listWebhookDeliveries, redeliverWebhookEvent
    // Meetings
    case listMeetings, createMeeting, getMeeting, updateMeeting, cancelMeeting, getMemberCalendar, getTeamCalendar
    // Training
    case listTrainingProgrammes, createTrainingProgramme, getTrainingProgramme, getTrainingSession, moveTrainingSession
    case cancelTrainingSession, recordTrainingAttendance, getTrainingCompliance, setMemberCompetencies, getMemberDevelopment
    // The coordinator's desk
    case getBriefing

    /// Who may call an operation.
    public enum Access: Sendable, Equatable {
        /// No token needed (probes, the document, metrics).
        case open
        /// Any valid token; what comes back is narrowed to the caller's scope.
        case anyToken
        /// It acts on one team (named in the path, or the team of the task named there): a
        /// role without the permission is refused (403) before the team is looked up, and a
        /// team out of scope does not exist for the caller (404, so existence does not leak).
        case team(Permission)
        /// The role decides (403); records named in the body are checked against scope one by one.
        case role(Permission)
        /// It acts on a record of a region (a customer, named in the path): 403 for the role
        /// first, then 404 when the region is out of reach.
        case region(Permission)
    }

    /// The access table.
    public var access: Access {
        switch self {
        case .getHealth, .getReadiness, .getOpenAPIDocument, .getMetrics: .open
        case .listRegions, .listTeams, .listMembers, .getCalendar, .listSLAPolicies, .listSLABreaches, .listTasks, .listEvents,
            .streamEvents:
            .anyToken
        case .createRegion, .createTeam, .createMember, .addMembership, .deactivateMember, .setCalendar, .addHoliday, .removeHoliday,
            .createSLAPolicy, .disableSLAPolicy, .enableSLAPolicy:
            .role(.manageReferenceData)
        case .listTokens, .createToken, .revokeToken: .role(.manageTokens)
        case .getTeamStats, .getTask: .team(.readQueue)
        case .createTask, .createTasks, .claimTasks, .heartbeatTask, .completeTask, .failTask, .releaseTask, .cancelTask, .handoffTask,
            .holdTask, .resumeTask:
            .team(.workQueue)
        case .completeTasks: .role(.workQueue)
        case .pauseTeam, .resumeTeam, .retryTask: .team(.manageQueue)
        case .listCustomers: .anyToken
        case .createCustomer: .role(.editRecords)
        case .getCustomer, .listContacts, .listInteractions, .getCustomerTimeline: .region(.readRecords)
        case .updateCustomer, .addContact, .updateContact, .logInteraction: .region(.editRecords)
        case .deleteCustomer: .region(.deleteRecords)
        case .listOpportunities, .getPipeline, .listCampaigns: .anyToken
        case .createOpportunity, .createCampaign: .role(.editRecords)
        case .getOpportunity, .listOpportunityTransitions, .getCampaign, .getCampaignResults, .getPipelineSettings: .region(.readRecords)
        case .updateOpportunity, .moveOpportunityStage, .winOpportunity, .loseOpportunity, .reopenOpportunity, .updateCampaign:
            .region(.editRecords)
        case .deleteOpportunity: .region(.deleteRecords)
        case .setPipelineSettings: .role(.manageReferenceData)
        case .listProducts, .getProduct, .listStock: .anyToken
        case .createProduct, .updateProduct, .verifyStock: .role(.manageReferenceData)
        case .getStock, .listStockMovements: .region(.readRecords)
        case .setStockSettings, .receiveStock, .adjustStock: .region(.editRecords)
        case .listOrders: .anyToken
        case .createOrder: .role(.editRecords)
        case .getOrder: .region(.readRecords)
        case .updateOrder, .confirmOrder, .shipOrder, .deliverOrder, .cancelOrder, .holdOrder, .releaseOrder: .region(.editRecords)
        case .listCases, .listFeedback, .getCSAT: .anyToken
        case .createCase, .createFeedback: .role(.editRecords)
        case .getCase, .listCaseTransitions, .getCaseSettings: .region(.readRecords)
        case .updateCase, .openCase, .setCasePending, .resolveCase, .closeCase, .reopenCase: .region(.editRecords)
        case .deleteCase: .region(.deleteRecords)
        case .setCaseSettings: .role(.manageReferenceData)
        // Rules are reference data for the whole organisation: the coordinator reads and tries
        // them, an admin changes them (as SLA policies and pipeline settings).
        case .listRules, .getRule, .testRule: .role(.readRules)
        case .createRule, .updateRule: .role(.manageReferenceData)
        // Reports count the records of the caller's regions; setting targets and market
        // figures is the work of those who plan: leads, coordinators and admins.
        case .listTargets, .getPlanReport, .getLeaderboard, .getKPIReport: .anyToken
        case .getTarget: .region(.readRecords)
        case .createTarget: .role(.managePlans)
        case .updateTarget, .setMarketSize: .region(.managePlans)
        // Which moment counts an order and the report currency are a region's planning
        // choices, set by the same people as its market figures.
        case .getReportSettings: .region(.readRecords)
        case .setReportSettings: .region(.managePlans)
        // A subscription sees every region's events and its URL may hold a receiver's own
        // credentials: admins only, like the other settings of the whole installation.
        case .listWebhooks, .createWebhook, .getWebhook, .updateWebhook, .deleteWebhook, .listWebhookDeliveries, .redeliverWebhookEvent:
            .role(.manageReferenceData)
        // Meetings are records of a region like customers: everyone reads those in reach, whoever
        // edits records schedules them. A member's calendar holds only meetings in reach.
        case .listMeetings, .getMemberCalendar: .anyToken
        case .createMeeting: .role(.editRecords)
        case .getMeeting: .region(.readRecords)
        case .updateMeeting, .cancelMeeting: .region(.editRecords)
        case .getTeamCalendar: .team(.readQueue)
        // Training is planned by those who lead people (coordinators and leads); everyone reads
        // what is in reach.
        case .listTrainingProgrammes, .getTrainingCompliance, .getMemberDevelopment: .anyToken
        case .createTrainingProgramme, .setMemberCompetencies: .role(.planTraining)
        case .getTrainingProgramme, .getTrainingSession: .region(.readRecords)
        case .moveTrainingSession, .cancelTrainingSession, .recordTrainingAttendance: .region(.planTraining)
        // The briefing reads what the caller's scope reaches, like every list it gathers.
        case .getBriefing: .anyToken
        }
    }

    /// The permission the operation needs, if any.
    public var permission: Permission? {
        switch access {
        case .open, .anyToken: nil
        case .team(let permission), .role(let permission), .region(let permission): permission
        }
    }
}

extension Principal {
    /// Refuses (403) a caller whose role may not perform `useCase` anywhere.
    public func authorize(_ useCase: UseCase) throws(BatonError) {
        guard let permission = useCase.permission, !has(permission) else { return }
        throw BatonError(.forbidden, "the \(role.rawValue) role may not do this")
    }

    /// Refuses a caller who may not perform `useCase` on a record of `region`: 403 for the role,
    /// then 404 when the region is out of reach.
    public func authorize(_ useCase: UseCase, region: String, notFound message: @autoclosure () -> String) throws(BatonError) {
        try authorize(useCase)
        guard scope.reaches(region: region) else { throw BatonError.notFound(message()) }
    }

    /// Refuses a caller who may not perform `useCase` on `team`: 403 for the role, then 404
    /// when the team is out of scope (its existence must not leak).
    public func authorize(_ useCase: UseCase, team: String, region: String, notFound message: @autoclosure () -> String) throws(BatonError) {
        try authorize(useCase)
        guard canSee(team: team, region: region) else { throw BatonError.notFound(message()) }
    }
}
