import BatonCore
import Foundation

extension APIHandler {
    // MARK: - Customers

    func listCustomers(_ input: Operations.ListCustomers.Input) async throws -> Operations.ListCustomers.Output {
        let query = input.query
        let page = try await services.customers.list(
            .init(
                query: query.q,
                region: query.region,
                status: query.status.flatMap { CustomerStatus(rawValue: $0.rawValue) },
                ownerID: query.ownerId.map(Int.init),
                tag: query.tag
            ),
            page: try PageRequest(limit: query.limit, after: query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(customers: page.items.map(Components.Schemas.Customer.init), nextCursor: page.nextCursor))))
    }

    func createCustomer(_ input: Operations.CreateCustomer.Input) async throws -> Operations.CreateCustomer.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let created = try await services.customers.create(
            NewCustomer(body),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(
            .init(
                headers: .init(eTag: Self.etag(created.customer.version)),
                body: .json(.init(customer: .init(created.customer), contacts: created.contacts.map(Components.Schemas.Contact.init)))
            )
        )
    }

    func getCustomer(_ input: Operations.GetCustomer.Input) async throws -> Operations.GetCustomer.Output {
        let customer = try await services.customers.customer(id: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(.init(headers: .init(eTag: Self.etag(customer.version)), body: .json(.init(customer))))
    }

    func updateCustomer(_ input: Operations.UpdateCustomer.Input) async throws -> Operations.UpdateCustomer.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let customer = try await services.customers.update(
            id: Int(input.path.id),
            version: try Self.version(ifMatch: input.headers.ifMatch),
            CustomerChanges(body),
            by: principal
        )
        return .ok(.init(headers: .init(eTag: Self.etag(customer.version)), body: .json(.init(customer))))
    }

    func deleteCustomer(_ input: Operations.DeleteCustomer.Input) async throws -> Operations.DeleteCustomer.Output {
        let customer = try await services.customers.delete(id: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(.init(headers: .init(eTag: Self.etag(customer.version)), body: .json(.init(customer))))
    }

    // MARK: - Contacts

    func listContacts(_ input: Operations.ListContacts.Input) async throws -> Operations.ListContacts.Output {
        let contacts = try await services.customers.contacts(ofCustomer: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(contacts: contacts.map(Components.Schemas.Contact.init)))))
    }

    func addContact(_ input: Operations.AddContact.Input) async throws -> Operations.AddContact.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let contact = try await services.customers.addContact(
            NewContact(body),
            toCustomer: Int(input.path.id),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(headers: .init(eTag: Self.etag(contact.version)), body: .json(.init(contact))))
    }

    func updateContact(_ input: Operations.UpdateContact.Input) async throws -> Operations.UpdateContact.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let contact = try await services.customers.updateContact(
            id: Int(input.path.contactId),
            ofCustomer: Int(input.path.id),
            version: try Self.version(ifMatch: input.headers.ifMatch),
            ContactChanges(
                name: body.name,
                role: body.role,
                email: body.email,
                phone: body.phone,
                preferredChannel: body.preferredChannel.flatMap { ContactChannel(rawValue: $0.rawValue) }
            ),
            by: principal
        )
        return .ok(.init(headers: .init(eTag: Self.etag(contact.version)), body: .json(.init(contact))))
    }

    // MARK: - Interactions and timeline

    func listInteractions(_ input: Operations.ListInteractions.Input) async throws -> Operations.ListInteractions.Output {
        let page = try await services.customers.interactions(
            ofCustomer: Int(input.path.id),
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(interactions: page.items.map(Components.Schemas.Interaction.init), nextCursor: page.nextCursor))))
    }

    func logInteraction(_ input: Operations.LogInteraction.Input) async throws -> Operations.LogInteraction.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        var followUp: LocalDate?
        if let text = body.followUpOn {
            guard let day = LocalDate(parsing: text) else {
                throw BatonError.invalidArgument("follow_up_on must be a date such as 2026-12-07", field: "follow_up_on")
            }
            followUp = day
        }
        let interaction = try await services.customers.logInteraction(
            NewInteraction(
                kind: InteractionKind(rawValue: body.kind.rawValue) ?? .note,
                summary: body.summary,
                occurredAt: body.occurredAt,
                contactID: body.contactId.map(Int.init),
                memberID: body.memberId.map(Int.init),
                followUpOn: followUp
            ),
            forCustomer: Int(input.path.id),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(body: .json(.init(interaction))))
    }

    func getCustomerTimeline(_ input: Operations.GetCustomerTimeline.Input) async throws -> Operations.GetCustomerTimeline.Output {
        let page = try await services.customers.timeline(
            ofCustomer: Int(input.path.id),
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(entries: page.items.map(Components.Schemas.TimelineEntry.init), nextCursor: page.nextCursor))))
    }

    // MARK: - Versions

    /// A record's version as an ETag (`"3"`).
    static func etag(_ version: Int) -> String { "\"\(version)\"" }

    /// The version an If-Match names: `"3"`, `W/"3"` or `3`.
    static func version(ifMatch: String, allowingZero: Bool = false) throws -> Int {
        var text = Substring(ifMatch.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = text.dropFirst().dropLast() }
        guard text.count <= 9, text.allSatisfy({ ("0"..."9").contains($0) }), let version = Int(text), version >= (allowingZero ? 0 : 1) else {
            throw BatonError.invalidArgument("If-Match must be the record's ETag, such as \"3\"", field: "If-Match")
        }
        return version
    }
}
